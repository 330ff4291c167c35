import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { bsonEquals, isPlainObject } from './bson-values.ts';
import type { CollectionData } from './collection-data.ts';

/** The _id index every collection has. */
const ID_INDEX_KEY = { _id: 1 };

/**
 * Checks a `hint`: an index name, an index key pattern or `{ $natural: ±1 }`.
 * The emulator scans whatever the hint, so an existing index changes
 * nothing; one that does not exist fails as the server's planner does
 * (BadValue). An empty hint is no hint, and a collection that does not
 * exist has no plan to choose, so neither is checked.
 */
export function checkHint(collection: CollectionData | undefined, hint: unknown): void {
  if (hint === undefined || hint === null || !collection) return;
  if (typeof hint === 'string') {
    if (hint === '' || hint === '_id_') return;
    if (collection.indexes.some((index) => index.name === hint)) return;
  } else if (isPlainObject(hint)) {
    const keys = Object.keys(hint);
    if (keys.length === 0 || keys[0] === '$natural') return;
    if (bsonEquals(hint, ID_INDEX_KEY)) return;
    if (collection.indexes.some((index) => bsonEquals(index.key as Document, hint))) return;
  } else {
    throw new CommandError('FailedToParse', 'hint must be a string or an object');
  }
  throw new CommandError('BadValue', 'hint provided does not correspond to an existing index');
}
