import { Binary, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import type { Catalog } from './catalog.ts';

function sameUuid(a: Binary, b: Binary): boolean {
  return Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
}

/**
 * The server's `collectionUUID` guard: a command naming a collection and the
 * UUID the caller expects it to have fails with CollectionUUIDMismatch (361)
 * unless the named collection exists with that UUID. The error names the
 * collection that does carry the UUID in the same database, or null.
 */
export function checkCollectionUuid(
  catalog: Catalog,
  command: Document,
  target: { db: string; coll: string },
): void {
  const expected: unknown = command.collectionUUID;
  if (expected === undefined) return;
  if (!(expected instanceof Binary) || expected.sub_type !== Binary.SUBTYPE_UUID)
    throw new CommandError(
      'TypeMismatch',
      "BSON field 'collectionUUID' is the wrong type, expected type 'binData' of subtype 4 (UUID)",
    );
  const named = catalog.get(target.db, target.coll);
  if (named && sameUuid(named.uuid, expected)) return;
  const actual = catalog.collectionNames(target.db).find((name) => {
    const data = catalog.get(target.db, name);
    return data !== undefined && sameUuid(data.uuid, expected);
  });
  throw new CommandError(
    'CollectionUUIDMismatch',
    `Collection UUID ${expected.toUUID().toHexString()} does not match the collection ${target.db}.${target.coll}`,
    {
      extra: {
        db: target.db,
        collectionUUID: expected,
        expectedCollection: target.coll,
        actualCollection: actual ?? null,
      },
    },
  );
}
