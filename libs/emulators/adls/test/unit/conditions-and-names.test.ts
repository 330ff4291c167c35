import { describe, expect, it } from 'vitest';
import { evaluateConditions } from '../../src/store/conditions.ts';
import { canonicalPathName, listingKey } from '../../src/store/names.ts';

const target = { etag: '"0x1"', lastModified: Date.parse('2026-01-01T00:00:10.500Z') };
const none = {
  ifMatch: undefined,
  ifNoneMatch: undefined,
  ifModifiedSince: undefined,
  ifUnmodifiedSince: undefined,
};

describe('conditional headers', () => {
  it.each([
    [{ ifMatch: '"0x1"' }, undefined],
    [{ ifMatch: '"0x2"' }, 'precondition'],
    [{ ifMatch: '*' }, undefined],
    [{ ifNoneMatch: '*' }, 'not-modified'],
    [{ ifNoneMatch: '"0x2"' }, undefined],
    [{ ifModifiedSince: 'Thu, 01 Jan 2026 00:00:10 GMT' }, 'not-modified'],
    [{ ifModifiedSince: 'Thu, 01 Jan 2026 00:00:09 GMT' }, undefined],
    [{ ifUnmodifiedSince: 'Thu, 01 Jan 2026 00:00:10 GMT' }, undefined],
    [{ ifUnmodifiedSince: 'Thu, 01 Jan 2026 00:00:09 GMT' }, 'precondition'],
    [{ ifUnmodifiedSince: 'not a date' }, undefined],
  ])('%o gives %s', (headers, expected) => {
    expect(evaluateConditions(target, { ...none, ...headers })).toBe(expected);
  });

  it('fails If-Match when the resource does not exist', () => {
    expect(evaluateConditions(undefined, { ...none, ifMatch: '*' })).toBe('precondition');
    expect(evaluateConditions(undefined, { ...none, ifNoneMatch: '*' })).toBeUndefined();
  });
});

describe('path names', () => {
  it.each([
    ['a/b/c.txt', 'a/b/c.txt'],
    ['/a//b/', 'a/b'],
    ['a%2Fb', 'a/b'],
    ['caf%C3%A9.txt', 'café.txt'],
  ])('canonicalises %s to %s', (raw, expected) => {
    expect(canonicalPathName(raw)).toBe(expected);
  });

  it.each(['..', 'a/../b', '%2e%2E', 'a%5Cb', 'x%00', '%E0%A4%A', 'a'.repeat(256)])(
    'refuses %s',
    (raw) => {
      expect(() => canonicalPathName(raw)).toThrow(expect.objectContaining({ status: 400 }));
    },
  );

  it('orders a directory before its contents and those before its next sibling', () => {
    const names = ['a-c', 'a/b', 'a', 'a/b/c', 'b'];
    expect(names.sort((x, y) => (listingKey(x) < listingKey(y) ? -1 : 1))).toEqual([
      'a',
      'a/b',
      'a/b/c',
      'a-c',
      'b',
    ]);
  });
});
