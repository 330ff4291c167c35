import { deserialize, serialize, type Document } from 'bson';
import type { OplogEntry } from '../oplog/oplog.ts';
import type { StateChange } from '../server/state-change.ts';
import { bsonEquals, idKey } from '../storage/bson-values.ts';
import type { Catalog } from '../storage/catalog.ts';
import { CollectionData } from '../storage/collection-data.ts';
import { collectionOptionsOf } from '../oplog/ddl-entries.ts';
import { promoteNumbers, withNumericTypes } from '../storage/numeric-types.ts';

/**
 * Journal records: one {@link StateChange} as BSON, with stored numbers'
 * BSON types restored (as the data directory's checkpoint keeps them), and
 * how a record read back is applied to the node's catalog.
 */
const WRITE_OPTIONS = { ignoreUndefined: true } as const;
const READ_OPTIONS = { promoteValues: false, promoteBuffers: false } as const;

/** The fields of an oplog entry that hold user documents (or values from them). */
const DOCUMENT_FIELDS = [
  'postImage',
  'preImage',
  'documentKey',
  'updateDescription',
  'disambiguatedPaths',
  'operationDescription',
  'stateBeforeChange',
] as const;

/** An oplog entry with its documents' numeric types restored, for saving. */
export function typedEntry(entry: OplogEntry): OplogEntry {
  const typed: Record<string, unknown> = { ...entry };
  for (const field of DOCUMENT_FIELDS) {
    const value = entry[field];
    if (value) typed[field] = withNumericTypes(value as Document);
  }
  return typed as unknown as OplogEntry;
}

/** One change as a journal record's payload. */
export function encodeChange(change: StateChange): Uint8Array {
  const record =
    change.kind === 'oplog'
      ? { kind: change.kind, entries: change.entries.map(typedEntry) }
      : change.kind === 'collection'
        ? { ...change, indexes: change.indexes.map(withNumericTypes) }
        : change;
  return serialize(record, WRITE_OPTIONS);
}

/** A record's payload as the change it recorded. */
export function decodeChange(payload: Uint8Array): StateChange {
  const record = deserialize(payload, READ_OPTIONS);
  if (record.kind === 'removed') return record as StateChange;
  if (record.kind === 'collection') {
    promoteNumbers(record.options as Document);
    for (const index of record.indexes as Document[]) promoteNumbers(index);
    return record as StateChange;
  }
  const entries = (record.entries as Document[]).map(readEntry);
  return { kind: 'oplog', entries };
}

/** Numbers of the entry itself as JS numbers; its documents promoted as the wire decoder does. */
function readEntry(raw: Document): OplogEntry {
  for (const field of DOCUMENT_FIELDS) {
    if (raw[field]) promoteNumbers(raw[field] as Document);
  }
  // txnNumber stays an int64 (Long), as change events report it.
  return {
    ...raw,
    seq: Number(raw.seq),
    bytes: Number(raw.bytes),
    txnOpIndex: Number(raw.txnOpIndex),
  } as OplogEntry;
}

/**
 * Applies a change read back from the journal to the catalog. Oplog entries
 * carry each document's new version (or its key, for a delete), so applying
 * them in order rebuilds what the writes did; the caller appends them to
 * the oplog as they were.
 */
export function applyToCatalog(catalog: Catalog, change: StateChange): void {
  if (change.kind === 'removed') {
    catalog.remove(change.db, change.coll);
    return;
  }
  if (change.kind === 'collection') {
    const existing = catalog.get(change.db, change.coll);
    if (existing && bsonEquals(existing.uuid, change.uuid)) {
      existing.options = change.options;
      existing.indexes = change.indexes;
    } else {
      catalog.put(
        change.db,
        change.coll,
        new CollectionData({ uuid: change.uuid, options: change.options, indexes: change.indexes }),
      );
    }
    return;
  }
  for (const entry of change.entries) applyEntry(catalog, entry);
}

function applyEntry(catalog: Catalog, entry: OplogEntry): void {
  const { db, coll } = entry.ns as { db: string; coll: string };
  switch (entry.op) {
    case 'insert':
    case 'update':
    case 'replace': {
      const doc = entry.postImage as Document;
      catalog.ensure(db, coll).collection.docs.set(idKey(doc._id), doc);
      return;
    }
    case 'delete':
      catalog.get(db, coll)?.docs.delete(idKey(entry.documentKey?._id));
      return;
    case 'drop':
      catalog.remove(db, coll);
      return;
    case 'rename': {
      const source = catalog.get(db, coll);
      const to = entry.to as { db: string; coll: string };
      catalog.remove(db, coll);
      if (source) catalog.put(to.db, to.coll, source);
      return;
    }
    case 'create':
      // A collection a transaction created: its create entry is in the transaction's record
      // (others were journalled as collection changes before their first entry).
      if (!catalog.get(db, coll)) catalog.put(db, coll, createdCollection(entry));
      return;
    case 'createIndexes': {
      const collection = catalog.get(db, coll);
      const built = (entry.operationDescription?.indexes ?? []) as Document[];
      const names = new Set(collection?.indexes.map((index) => index.name));
      const added = built.filter((index) => !names.has(index.name));
      if (collection && added.length > 0) collection.indexes = [...collection.indexes, ...added];
      return;
    }
    case 'dropDatabase':
    case 'dropIndexes':
    case 'modify':
      // Drops precede dropDatabase in the oplog; index drops and collMod were journalled as
      // collection changes (neither can happen in a transaction).
      return;
  }
}

/** The collection a create entry describes: its uuid and the options the emulator keeps. */
function createdCollection(entry: OplogEntry): CollectionData {
  return new CollectionData({
    ...(entry.collectionUUID ? { uuid: entry.collectionUUID } : {}),
    options: collectionOptionsOf(entry.operationDescription),
  });
}
