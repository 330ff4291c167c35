import { LakeError, type LakeErrorCode } from '../lake-error.ts';

/** Node `errno` codes and what they mean for a lake caller. */
const CODES: Readonly<Record<string, LakeErrorCode>> = {
  ENOENT: 'NOT_FOUND',
  EEXIST: 'ALREADY_EXISTS',
  EACCES: 'UNAUTHORIZED',
  EPERM: 'UNAUTHORIZED',
  EROFS: 'UNAUTHORIZED',
  ENOTDIR: 'INVALID',
  EISDIR: 'INVALID',
  ENAMETOOLONG: 'INVALID_PATH',
  EILSEQ: 'INVALID_PATH',
  EINVAL: 'INVALID',
  ELOOP: 'INVALID',
  ENOSPC: 'UNAVAILABLE',
  EDQUOT: 'UNAVAILABLE',
  EIO: 'UNAVAILABLE',
  EMFILE: 'UNAVAILABLE',
  ENFILE: 'UNAVAILABLE',
  EBUSY: 'UNAVAILABLE',
  EAGAIN: 'UNAVAILABLE',
  ESTALE: 'UNAVAILABLE',
};

/**
 * The lake error code for a Node file-system error, by its `code` (never its
 * message). Unknown errors are `UNAVAILABLE`: the disk failed in a way we do
 * not recognise, and trying again is the only safe move.
 */
export function lakeCodeOfFsError(error: unknown): LakeErrorCode {
  const code = (error as { code?: unknown } | null)?.code;
  return (typeof code === 'string' ? CODES[code] : undefined) ?? 'UNAVAILABLE';
}

/** Translates a Node file-system error at the adapter's edge; lake errors pass through. */
export function fsErrorToLakeError(error: unknown, operation: string, path: string): LakeError {
  if (error instanceof LakeError) return error;
  const errno = (error as { code?: unknown } | null)?.code;
  return new LakeError(
    lakeCodeOfFsError(error),
    `Local lake ${operation} of ${path} failed (${typeof errno === 'string' ? errno : 'unknown error'}).`,
    { cause: error },
  );
}

/** True when `error` is a Node error with this `code`. */
export function hasErrno(error: unknown, code: string): boolean {
  return (error as { code?: unknown } | null)?.code === code;
}
