import { describe, expect, it } from 'vitest';
import {
  checkLakePath,
  checkLakePrefix,
  isReservedPath,
  isUnderPrefix,
  sliceRange,
} from '../../src/paths/lake-path.ts';
import { isLakeError } from '../../src/lake-error.ts';

function problemCode(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    return isLakeError(error) ? error.code : 'not a lake error';
  }
}

describe('lake paths', () => {
  it.each(['a', 'db/coll/year=2026/part-0-1.jsonl', '_tributary/checkpoints/p.json', 'a.b/c..d'])(
    'accepts %s',
    (path) => {
      expect(checkLakePath(path)).toBe(path);
    },
  );

  it.each([
    '',
    '/abs',
    '../up',
    'a/../b',
    'a/./b',
    'a//b',
    'a/',
    'a\\b',
    'C:/x',
    'a\0b',
    'a.~lock',
    'd/x.json.~tmp-1/y',
  ])('refuses %j with INVALID', (path) => {
    expect(problemCode(() => checkLakePath(path))).toBe('INVALID_PATH');
  });

  it('normalises prefixes: empty is everything, a trailing slash is dropped', () => {
    expect(checkLakePrefix('')).toBe('');
    expect(checkLakePrefix('db/')).toBe('db');
    expect(problemCode(() => checkLakePrefix('../'))).toBe('INVALID_PATH');
    expect(problemCode(() => checkLakePrefix('/'))).toBe(undefined);
  });

  it('matches whole segments when deciding what lies under a prefix', () => {
    expect(isUnderPrefix('db/a/x', 'db')).toBe(true);
    expect(isUnderPrefix('dbx/a', 'db')).toBe(false);
    expect(isUnderPrefix('anything', '')).toBe(true);
  });

  it('recognises the adapters’ bookkeeping names', () => {
    expect(isReservedPath('d/x.json.~tmp-123')).toBe(true);
    expect(isReservedPath('d/x.json')).toBe(false);
  });

  it('clamps ranges to the data and refuses negative ones', () => {
    const data = new TextEncoder().encode('0123');
    expect([...sliceRange(data, 1, 2)]).toEqual([49, 50]);
    expect(sliceRange(data, 9).length).toBe(0);
    expect(problemCode(() => sliceRange(data, -1))).toBe('INVALID');
    expect(problemCode(() => sliceRange(data, 0, 1.5))).toBe('INVALID');
  });
});
