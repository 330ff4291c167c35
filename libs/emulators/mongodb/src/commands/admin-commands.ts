import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { findDocuments } from '../query/query-engine.ts';
import { checkCollation } from '../query/collation.ts';
import type { CollectionOptions } from '../storage/collection-data.ts';
import { parseValidation, validationInfo } from '../storage/document-validation.ts';
import { parseViewDefinition, refuseViewWrite, viewInfo } from '../storage/views.ts';
import { INTERNAL_DATABASES, validateCollName, validateDbName } from '../storage/catalog.ts';
import { isPlainObject } from '../storage/bson-values.ts';
import { ID_INDEX } from '../storage/collection-data.ts';
import { collectionOptionsDocument, modifyEntry } from '../oplog/ddl-entries.ts';
import { checkCollectionUuid } from '../storage/collection-uuid.ts';
import type { CommandContext, CommandDefinition } from '../server/command-context.ts';
import { collectionArg, optionalDocument, targetCollection } from './command-args.ts';
import { cursorReply } from './read-commands.ts';
import { indexCommands } from './index-commands.ts';

function imagesOption(command: Document): boolean | undefined {
  const option = command.changeStreamPreAndPostImages;
  if (option === undefined) return undefined;
  if (!isPlainObject(option) || typeof option.enabled !== 'boolean') {
    throw new CommandError(
      'TypeMismatch',
      "BSON field 'changeStreamPreAndPostImages.enabled' is missing but a required field",
    );
  }
  return option.enabled;
}

const isFalse = (value: unknown) => value === false;

/** An `idIndex` that asks for what every collection has: `{ _id: 1 }` named `_id_`, no options. */
function isDefaultIdIndex(value: unknown): boolean {
  if (!isPlainObject(value) || !isPlainObject(value.key)) return false;
  const { key, name, v, ...options } = value;
  return (
    Object.keys(key).length === 1 &&
    Number(key._id) === 1 &&
    (name === undefined || name === '_id_') &&
    (v === undefined || Number(v) === 2) &&
    Object.keys(options).length === 0
  );
}

/**
 * create options whose feature the emulator does not model (capped,
 * time-series, clustered, TTL and temporary collections, custom or missing
 * `_id` indexes, replicated record ids, queryable encryption): refused,
 * never a plain collection in their place — unless the value asks for what
 * a plain collection is anyway (`capped: false`, `autoIndexId: true`, …).
 */
const CREATE_UNSUPPORTED = new Map<
  string,
  { feature: string; plain?: (value: unknown) => boolean }
>([
  ['capped', { feature: 'capped collections', plain: isFalse }],
  ['size', { feature: 'capped collections' }],
  ['max', { feature: 'capped collections' }],
  ['timeseries', { feature: 'time-series collections' }],
  ['clusteredIndex', { feature: 'clustered collections' }],
  ['expireAfterSeconds', { feature: 'TTL collections' }],
  ['encryptedFields', { feature: 'queryable encryption' }],
  ['autoIndexId', { feature: 'collections without an _id index', plain: (v) => v === true }],
  ['idIndex', { feature: 'a custom _id index', plain: isDefaultIdIndex }],
  ['temp', { feature: 'temporary collections', plain: isFalse }],
  ['recordIdsReplicated', { feature: 'replicated record ids', plain: isFalse }],
]);

/** Creates a collection in the command's scope: in a transaction, others see it only at commit. */
function create(context: CommandContext): Document {
  const { command, db, scope } = context;
  const coll = collectionArg(command, 'create', db);
  for (const key of Object.keys(command).slice(1)) {
    const unsupported = CREATE_UNSUPPORTED.get(key);
    if (unsupported && !unsupported.plain?.(command[key]))
      throw new CommandError(
        'InvalidOptions',
        `create option not supported by the Tributary MongoDB emulator: ${key} (${unsupported.feature})`,
      );
  }
  if (scope.read(db, coll))
    throw new CommandError('NamespaceExists', `Collection ${db}.${coll} already exists.`);
  // A collection's default collation would apply to every operation on it; not modelled.
  checkCollation(command.collation, 'create.collation');
  const view = parseViewDefinition(command, db);
  const images = imagesOption(command) ?? false;
  const validation = parseValidation(command, 'create', undefined);
  if (view && context.transaction)
    throw new CommandError(
      'OperationNotSupportedInTransaction',
      'Cannot create a view in a multi-document transaction.',
    );
  scope.write(db, coll, { changeStreamPreAndPostImages: images, validation, view });
  return {};
}

function drop(context: CommandContext): Document {
  const { db, node } = context;
  const coll = targetCollection(context);
  const existing = node.catalog.get(db, coll);
  if (existing?.options.view) {
    // A view holds no documents: dropping it removes its definition, no drop event.
    node.dropView(db, coll);
    return { ns: `${db}.${coll}` };
  }
  // Since MongoDB 7.0 dropping a missing collection succeeds.
  const nIndexesWas = existing ? 1 + existing.indexes.length : 0;
  node.dropCollection(db, coll);
  return existing ? { nIndexesWas, ns: `${db}.${coll}` } : {};
}

function collectionInfo(name: string, options: CollectionOptions, uuid: unknown): Document {
  return {
    name,
    type: 'collection',
    options: {
      ...validationInfo(options.validation),
      ...(options.changeStreamPreAndPostImages
        ? { changeStreamPreAndPostImages: { enabled: true } }
        : {}),
    },
    info: { readOnly: false, uuid },
    idIndex: ID_INDEX,
  };
}

function listCollections(context: CommandContext): Document {
  const { command, db, node } = context;
  const filter = optionalDocument(command, 'listCollections', 'filter') ?? {};
  const nameOnly = command.nameOnly === true;
  const all = node.catalog.collectionNames(db).map((name) => {
    const data = node.catalog.get(db, name);
    if (data?.options.view)
      return nameOnly ? { name, type: 'view' } : viewInfo(name, data.options.view);
    const info = collectionInfo(
      name,
      data?.options ?? { changeStreamPreAndPostImages: false },
      data?.uuid,
    );
    return nameOnly ? { name, type: 'collection' } : info;
  });
  const batchSize = isPlainObject(command.cursor)
    ? Number(command.cursor.batchSize ?? 101)
    : undefined;
  return cursorReply(
    context,
    `${db}.$cmd.listCollections`,
    findDocuments(all, { filter }),
    batchSize,
  );
}

function listDatabases(context: CommandContext): Document {
  const { node, command } = context;
  const names = new Set([...INTERNAL_DATABASES, ...node.catalog.databases.keys()]);
  let databases: Document[] = [...names].sort().map((name) => {
    const docs = [...(node.catalog.databases.get(name)?.values() ?? [])].reduce(
      (sum, coll) => sum + coll.docs.size,
      0,
    );
    return {
      name,
      sizeOnDisk: 4096 * (1 + docs),
      empty: docs === 0 && !node.catalog.databases.has(name),
    };
  });
  const filter = optionalDocument(command, 'listDatabases', 'filter');
  if (filter) databases = findDocuments(databases, { filter });
  if (command.nameOnly === true) return { databases: databases.map((d) => ({ name: d.name })) };
  const totalSize = databases.reduce((sum, d) => sum + (d.sizeOnDisk as number), 0);
  return { databases, totalSize, totalSizeMb: Math.round(totalSize / 1048576) };
}

function dropDatabase(context: CommandContext): Document {
  if (INTERNAL_DATABASES.has(context.db)) {
    throw new CommandError(
      'IllegalOperation',
      `Dropping the '${context.db}' database is prohibited.`,
    );
  }
  context.node.dropDatabase(context.db);
  return { dropped: context.db };
}

function parseNamespace(value: unknown, field: string): { db: string; coll: string } {
  if (typeof value !== 'string')
    throw new CommandError(
      'TypeMismatch',
      `BSON field 'renameCollection.${field}' is the wrong type, expected type 'string'`,
    );
  const dot = value.indexOf('.');
  if (dot <= 0) throw new CommandError('InvalidNamespace', `Invalid ${field} namespace: ${value}`);
  const db = validateDbName(value.slice(0, dot));
  return { db, coll: validateCollName(db, value.slice(dot + 1)) };
}

function renameCollection(context: CommandContext): Document {
  const { command, node } = context;
  const from = parseNamespace(command.renameCollection, 'renameCollection');
  const to = parseNamespace(command.to, 'to');
  checkCollectionUuid(node.catalog, command, from);
  refuseViewWrite(node.catalog.get(from.db, from.coll), from);
  if (from.db === to.db && from.coll === to.coll) {
    throw new CommandError('IllegalOperation', "Can't rename a collection to itself");
  }
  node.rename(from, to, command.dropTarget === true);
  return {};
}

/** collMod's schema-validation fields. */
const VALIDATION_FIELDS = ['validator', 'validationLevel', 'validationAction'];

/** collMod fields the emulator takes. */
const COLL_MOD_ACCEPTED = [...VALIDATION_FIELDS, 'changeStreamPreAndPostImages', 'collectionUUID'];

/** collMod fields its oplog entry (and a modify event's operationDescription) carries. */
const COLL_MOD_LOGGED = COLL_MOD_ACCEPTED.filter((key) => key !== 'collectionUUID');

/** collMod fields the server knows that the emulator does not model. */
const COLL_MOD_UNSUPPORTED = new Set([
  'index',
  'viewOn',
  'pipeline',
  'expireAfterSeconds',
  'timeseries',
  'clusteredIndex',
  'timeseriesBucketsMayHaveMixedSchemaData',
  'recordIdsReplicated',
  'dryRun',
  'cappedSize',
  'cappedMax',
]);

function collMod(context: CommandContext): Document {
  const { command, db, node } = context;
  const coll = targetCollection(context);
  const collection = node.catalog.get(db, coll);
  if (!collection) throw new CommandError('NamespaceNotFound', `ns does not exist: ${db}.${coll}`);
  if (collection.options.view)
    throw new CommandError(
      'InvalidOptions',
      `collMod of a view is not supported by the Tributary MongoDB emulator: ${db}.${coll}`,
    );
  // Unknown fields were refused by the dispatcher (40415); of the known
  // ones, the emulator models the pre- and post-image option and validators.
  for (const key of Object.keys(command).slice(1)) {
    if (COLL_MOD_UNSUPPORTED.has(key))
      throw new CommandError(
        'InvalidOptions',
        `collMod option not supported by the emulator: ${key}`,
      );
  }
  // Everything is parsed before anything changes: a bad field leaves the collection as it was.
  const images = imagesOption(command);
  const validation = VALIDATION_FIELDS.some((field) => command[field] !== undefined)
    ? parseValidation(command, 'collMod', collection.options.validation)
    : collection.options.validation;
  const optionsBefore = collectionOptionsDocument(collection);
  collection.options = {
    ...collection.options,
    changeStreamPreAndPostImages: images ?? collection.options.changeStreamPreAndPostImages,
    validation,
  };
  // The server logs every collMod, even one that changes nothing (a modify event).
  const changes: Document = {};
  for (const key of COLL_MOD_LOGGED) if (command[key] !== undefined) changes[key] = command[key];
  node.appendWrites([modifyEntry({ db, coll }, collection, changes, optionsBefore)]);
  return {};
}

function commitTransaction(context: CommandContext): Document {
  const transaction = context.transaction;
  if (!transaction) throw new CommandError('NoSuchTransaction', 'Transaction was not started');
  if (transaction.state === 'committed') return {};
  if (transaction.state === 'aborted') {
    throw new CommandError(
      'NoSuchTransaction',
      `Transaction with { txnNumber: ${transaction.txnNumber} } has been aborted.`,
    );
  }
  context.node.commit(transaction);
  return {};
}

function abortTransaction(context: CommandContext): Document {
  const transaction = context.transaction;
  if (!transaction || transaction.state === 'aborted') {
    throw new CommandError('NoSuchTransaction', 'Transaction was not started');
  }
  if (transaction.state === 'committed') {
    throw new CommandError('IllegalOperation', 'Cannot abort a committed transaction');
  }
  transaction.abort();
  return {};
}

/** Catalog and transaction-control commands. */
export const adminCommands: Record<string, CommandDefinition> = {
  // Field lists follow the server's IDL (strict commands answer an unknown
  // field with 40415 UnknownBsonField); generic arguments are allowed by the
  // dispatcher for every command.
  create: {
    handler: create,
    inTransaction: true,
    fields: [
      'capped',
      'autoIndexId',
      'idIndex',
      'size',
      'max',
      'storageEngine',
      'validator',
      'validationLevel',
      'validationAction',
      'indexOptionDefaults',
      'viewOn',
      'pipeline',
      'timeseries',
      'clusteredIndex',
      'changeStreamPreAndPostImages',
      'expireAfterSeconds',
      'encryptedFields',
      'recordIdsReplicated',
      'temp',
      'flags',
      'collation',
    ],
  },
  drop: { handler: drop, fields: ['collectionUUID'] },
  listCollections: {
    handler: listCollections,
    fields: ['filter', 'nameOnly', 'authorizedCollections', 'cursor', 'includePendingDrops'],
  },
  listDatabases: {
    handler: listDatabases,
    adminOnly: true,
    fields: ['filter', 'nameOnly', 'authorizedDatabases'],
  },
  dropDatabase: { handler: dropDatabase, fields: [] },
  renameCollection: {
    handler: renameCollection,
    adminOnly: true,
    fields: ['to', 'dropTarget', 'stayTemp', 'collectionUUID'],
  },
  collMod: { handler: collMod, fields: [...COLL_MOD_ACCEPTED, ...COLL_MOD_UNSUPPORTED] },
  ...indexCommands,
  commitTransaction: { handler: commitTransaction, inTransaction: true, adminOnly: true },
  abortTransaction: { handler: abortTransaction, inTransaction: true, adminOnly: true },
};
