import { NO_COLLECTION_SEGMENT, NO_DATABASE_SEGMENT } from '@tributary/core';

/** The namespace of lines whose namespace cannot be told (a file name or line that says nothing). */
export const UNKNOWN_NAMESPACE = '?';

/**
 * A change event's namespace as one name: `db.coll`, `db` for events of a
 * whole database (dropDatabase), `''` for events of the whole deployment.
 */
export function namespaceName(ns: unknown): string {
  const { db, coll } = (ns ?? {}) as { db?: unknown; coll?: unknown };
  if (typeof db !== 'string') return '';
  return typeof coll === 'string' ? `${db}.${coll}` : db;
}

/**
 * The namespace a directory serves under `template` (`{db}` and `{coll}`
 * are whole segments), read back from its escaped segments; `undefined`
 * when the directory does not have the template's shape.
 */
export function namespaceOfDirectory(template: string, dir: string): string | undefined {
  const pattern = template.split('/');
  const segments = dir.split('/');
  if (pattern.length !== segments.length) return undefined;
  const db = segments[pattern.indexOf('{db}')];
  const coll = segments[pattern.indexOf('{coll}')];
  if (db === undefined || coll === undefined) return undefined;
  if (db === NO_DATABASE_SEGMENT) return '';
  if (coll === NO_COLLECTION_SEGMENT) return unescape(db);
  return `${unescape(db)}.${unescape(coll)}`;
}

/** Undoes `encodePathSegment`'s `%XX` escapes (a shortened segment stays as it is). */
function unescape(segment: string): string {
  if (segment.includes('~')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // not escaped by Tributary: shown as found
  }
}
