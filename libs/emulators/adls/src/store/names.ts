import { StorageError, errors } from '../http/storage-error.ts';

/**
 * Name rules. Names are only ever keys in the emulator's index — data files
 * on disk are named by random ids — so no name can reach outside the data
 * directory; these checks exist to answer bad names the way the service does.
 */

const FILESYSTEM_NAME = /^[$a-z0-9](?!.*--)[-a-z0-9]{1,61}[a-z0-9]$/;

/** Longest path the service accepts (Blob name limit, in characters). */
export const MAX_PATH_LENGTH = 1024;
/** Longest single path segment on a hierarchical-namespace account. */
export const MAX_SEGMENT_LENGTH = 255;

/** Throws 400 InvalidResourceName unless `name` is a valid filesystem (container) name. */
export function validateFilesystemName(name: string): void {
  if (!FILESYSTEM_NAME.test(name)) throw errors.invalidResourceName();
}

/**
 * Turns the encoded path part of a URL into the canonical path name:
 * percent-decoded, split on `/` (an encoded slash is a slash, as on the
 * service), empty segments dropped. `.` and `..` segments, NUL and over-long
 * names are refused with 400.
 */
export function canonicalPathName(encoded: string): string {
  let decoded = encoded;
  if (encoded.includes('%')) {
    try {
      decoded = decodeURIComponent(encoded);
    } catch (_error) {
      throw errors.invalidUri();
    }
  }
  const segments = decoded.split('/').filter((segment) => segment.length > 0);
  for (const segment of segments) {
    if (
      segment === '.' ||
      segment === '..' ||
      segment.includes('\u0000') ||
      segment.includes('\\')
    ) {
      throw errors.invalidResourceName();
    }
    if (segment.length > MAX_SEGMENT_LENGTH) throw errors.invalidResourceName();
  }
  const name = segments.join('/');
  if (name.length > MAX_PATH_LENGTH) {
    throw new StorageError(
      400,
      'InvalidResourceName',
      'The specified resource name length is not within the permissible limits.',
    );
  }
  return name;
}

/** The parent directory of `name` (`''` for the filesystem root). */
export function parentOf(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash === -1 ? '' : name.slice(0, slash);
}

/** Every ancestor directory of `name`, outermost first. */
export function ancestorsOf(name: string): string[] {
  const parts = name.split('/');
  const result: string[] = [];
  for (let i = 1; i < parts.length; i++) result.push(parts.slice(0, i).join('/'));
  return result;
}

/** True when `name` is `dir` itself or lies beneath it. */
export function isWithin(name: string, dir: string): boolean {
  return name === dir || name.startsWith(`${dir}/`);
}

/**
 * Sort key giving the service's listing order: a directory is followed by
 * its contents before its next sibling (`a`, `a/b`, `a-c`), which plain string
 * order would not give because `-` sorts before `/`.
 */
export function listingKey(name: string): string {
  return name.replaceAll('/', '\u0000');
}
