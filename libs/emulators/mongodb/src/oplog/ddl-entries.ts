import type { Document } from 'bson';
import {
  ID_INDEX,
  type CollectionData,
  type CollectionOptions,
} from '../storage/collection-data.ts';
import type { CollectionValidation } from '../storage/document-validation.ts';
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

/**
 * The collection's options as the server writes them (`create`'s `o`,
 * collMod's old options): pre- and post-images, validation, a view's
 * definition.
 */
export function collectionOptionsDocument(collection: CollectionData): Document {
  const { changeStreamPreAndPostImages, validation, view } = collection.options;
  return {
    ...(view ? { viewOn: view.viewOn, pipeline: view.pipeline } : {}),
    ...(changeStreamPreAndPostImages ? { changeStreamPreAndPostImages: { enabled: true } } : {}),
    ...(validation ? { ...validation } : {}),
  };
}

/** The options {@link collectionOptionsDocument} wrote, read back (journal replay). */
export function collectionOptionsOf(document: Document | undefined): CollectionOptions {
  const images = (document?.changeStreamPreAndPostImages as Document | undefined)?.enabled;
  const { validator, validationLevel, validationAction, viewOn, pipeline } = document ?? {};
  return {
    changeStreamPreAndPostImages: images === true,
    ...(validator
      ? { validation: { validator, validationLevel, validationAction } as CollectionValidation }
      : {}),
    ...(typeof viewOn === 'string' ? { view: { viewOn, pipeline: pipeline as Document[] } } : {}),
  };
}

/** A collection was created, explicitly or by its first write. */
export function createEntry(ns: Namespace, collection: CollectionData): OplogWrite {
  // A view has no _id index (it holds no documents).
  return ddlWrite('create', ns, collection, {
    ...collectionOptionsDocument(collection),
    ...(collection.options.view ? {} : { idIndex: ID_INDEX }),
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
