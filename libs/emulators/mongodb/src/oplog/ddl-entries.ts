import type { Document } from 'bson';
import { ID_INDEX, type CollectionData } from '../storage/collection-data.ts';
import type { OplogWrite } from './oplog.ts';

/**
 * Oplog entries of the catalog changes only expanded change events report
 * (create, createIndexes, dropIndexes, modify), shaped as the server's
 * event transformation reads its `c` oplog entries: the command's fields
 * but its name become the event's `operationDescription`.
 *
 * @see https://www.mongodb.com/docs/manual/reference/change-events/
 */
type Namespace = { db: string; coll: string };

function ddlWrite(
  op: OplogWrite['op'],
  ns: Namespace,
  collection: CollectionData,
  operationDescription: Document,
): OplogWrite {
  return {
    op,
    ns,
    collectionUUID: collection.uuid,
    operationDescription,
    imagesRecorded: false,
  };
}

/** The collection's options as the server writes them (`create`'s `o`, collMod's old options). */
export function collectionOptionsDocument(collection: CollectionData): Document {
  return collection.options.changeStreamPreAndPostImages
    ? { changeStreamPreAndPostImages: { enabled: true } }
    : {};
}

/** A collection was created, explicitly or by its first write. */
export function createEntry(ns: Namespace, collection: CollectionData): OplogWrite {
  return ddlWrite('create', ns, collection, {
    ...collectionOptionsDocument(collection),
    idIndex: ID_INDEX,
  });
}

/**
 * Indexes were built: on an empty collection the server logs one
 * `createIndexes` entry per index, otherwise one `commitIndexBuild` entry
 * for the whole build — one event either way per entry.
 */
export function createIndexesEntries(
  ns: Namespace,
  collection: CollectionData,
  specs: Document[],
  wasEmpty: boolean,
): OplogWrite[] {
  if (specs.length === 0) return [];
  const groups = wasEmpty ? specs.map((spec) => [spec]) : [specs];
  return groups.map((indexes) => ddlWrite('createIndexes', ns, collection, { indexes }));
}

/** One index was dropped (`dropIndexes: '*'` logs one entry per index). */
export function dropIndexEntry(
  ns: Namespace,
  collection: CollectionData,
  spec: Document,
): OplogWrite {
  return ddlWrite('dropIndexes', ns, collection, { indexes: [spec] });
}

/** collMod: what it set, and the collection's options before (with its uuid, as the server logs them). */
export function modifyEntry(
  ns: Namespace,
  collection: CollectionData,
  changes: Document,
  optionsBefore: Document,
): OplogWrite {
  return {
    ...ddlWrite('modify', ns, collection, changes),
    stateBeforeChange: { collectionOptions: { uuid: collection.uuid, ...optionsBefore } },
  };
}
