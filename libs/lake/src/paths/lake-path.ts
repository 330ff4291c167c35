import { LakeError } from '../lake-error.ts';

/**
 * Adapters keep their own bookkeeping files (temporary documents, locks)
 * next to the files they belong to, so a rename stays inside one directory
 * and is atomic. Such names carry this marker; callers cannot use it, and
 * `list` never shows it.
 */
export const RESERVED_MARKER = '.~';

/** Names a sibling of `path` that only the adapter uses. */
export function reservedSibling(path: string, kind: string): string {
  return `${path}${RESERVED_MARKER}${kind}`;
}

/** True for a path an adapter wrote for its own bookkeeping. */
export function isReservedPath(path: string): boolean {
  return path.split('/').some((segment) => segment.includes(RESERVED_MARKER));
}

function problemOf(path: string, allowEmpty: boolean): string | undefined {
  if (typeof path !== 'string') return 'not a string';
  if (path === '') return allowEmpty ? undefined : 'empty';
  if (path.includes('\\')) return 'contains a backslash';
  if (path.includes('\0')) return 'contains a NUL character';
  if (path.startsWith('/')) return 'is absolute';
  if (/^[A-Za-z]:/.test(path)) return 'starts with a drive letter';
  for (const segment of path.split('/')) {
    if (segment === '') return 'has an empty segment';
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
    if (segment.includes(RESERVED_MARKER)) return `uses the reserved marker "${RESERVED_MARKER}"`;
  }
  return undefined;
}

/**
 * Checks a file path against the port's rule (relative, `/`-separated, no
 * `.`/`..`), so no adapter can be steered outside its root.
 *
 * @throws LakeError `INVALID_PATH` naming what is wrong.
 */
export function checkLakePath(path: string): string {
  const problem = problemOf(path, false);
  if (problem !== undefined)
    throw new LakeError('INVALID_PATH', `Lake path ${JSON.stringify(path)} ${problem}.`);
  return path;
}

/**
 * Normalises a `list` prefix: `''` is the whole lake, a trailing `/` is
 * dropped, and otherwise it follows {@link checkLakePath}.
 */
export function checkLakePrefix(prefix: string): string {
  const trimmed = typeof prefix === 'string' ? prefix.replace(/\/+$/, '') : prefix;
  const problem = problemOf(trimmed, true);
  if (problem !== undefined)
    throw new LakeError('INVALID_PATH', `Lake prefix ${JSON.stringify(prefix)} ${problem}.`);
  return trimmed;
}

/** True when `path` lies below (or is) the normalised `prefix`. */
export function isUnderPrefix(path: string, prefix: string): boolean {
  return prefix === '' || path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * Checks a read range.
 *
 * @throws LakeError `INVALID` for a negative or fractional offset or length.
 */
export function checkReadRange(offset: number, length: number | undefined): void {
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new LakeError('INVALID', `Read offset ${offset} is not a non-negative integer.`);
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0))
    throw new LakeError('INVALID', `Read length ${length} is not a non-negative integer.`);
}

/**
 * Checks an append's offset.
 *
 * @throws LakeError `INVALID` for a negative or fractional offset.
 */
export function checkAppendOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new LakeError('INVALID', `Append offset ${offset} is not a non-negative integer.`);
}

/** Bytes `[offset, offset + length)` of `data`, clamped to what exists; a copy. */
export function sliceRange(data: Uint8Array, offset = 0, length?: number): Uint8Array {
  checkReadRange(offset, length);
  const start = Math.min(offset, data.length);
  const end = length === undefined ? data.length : Math.min(data.length, offset + length);
  return data.slice(start, Math.max(start, end));
}
