import { describe, expect, it } from 'vitest';
import { fsErrorToLakeError, lakeCodeOfFsError } from '../../src/local/fs-error.ts';
import { LakeError } from '../../src/lake-error.ts';

const errno = (code: string) => Object.assign(new Error(`${code}: some text`), { code });

describe('file-system error translation', () => {
  it.each([
    ['ENOENT', 'NOT_FOUND'],
    ['EEXIST', 'ALREADY_EXISTS'],
    ['EACCES', 'UNAUTHORIZED'],
    ['EPERM', 'UNAUTHORIZED'],
    ['ENOTDIR', 'INVALID'],
    ['EISDIR', 'INVALID'],
    ['ENOSPC', 'UNAVAILABLE'],
    ['EIO', 'UNAVAILABLE'],
    ['EMFILE', 'UNAVAILABLE'],
    ['ESOMETHINGNEW', 'UNAVAILABLE'],
  ])('translates %s into %s', (code, expected) => {
    expect(lakeCodeOfFsError(errno(code))).toBe(expected);
  });

  it('treats an error without an errno code as UNAVAILABLE', () => {
    expect(lakeCodeOfFsError(new Error('ENOENT in the text only'))).toBe('UNAVAILABLE');
    expect(lakeCodeOfFsError(undefined)).toBe('UNAVAILABLE');
  });

  it('passes lake errors through unchanged', () => {
    const original = new LakeError('CONFLICT', 'moved');
    expect(fsErrorToLakeError(original, 'append', 'x')).toBe(original);
  });

  it('keeps the original error as the cause and marks retryable codes', () => {
    const cause = errno('EIO');
    const translated = fsErrorToLakeError(cause, 'append', 'a/b.jsonl');
    expect(translated.code).toBe('UNAVAILABLE');
    expect(translated.retryable).toBe(true);
    expect(translated.cause).toBe(cause);
  });
});
