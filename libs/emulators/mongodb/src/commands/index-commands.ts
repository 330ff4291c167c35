import { EJSON, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { checkCollation, parseCollation } from '../query/collation.ts';
import { isPlainObject } from '../storage/bson-values.ts';
import { checkExistingForUnique } from '../storage/unique-indexes.ts';
import { ID_INDEX } from '../storage/collection-data.ts';
import { refuseViewWrite } from '../storage/views.ts';
import { createIndexesEntries, dropIndexEntry } from '../oplog/ddl-entries.ts';
import type { CommandContext, CommandDefinition } from '../server/command-context.ts';
import { collectionArg, targetCollection } from './command-args.ts';
import { cursorReply } from './read-commands.ts';

/**
 * In a transaction indexes can only be built on a collection the
 * transaction creates, while it is empty (the server's rule: an index build
 * on an existing collection takes locks a transaction cannot hold).
 */
function checkIndexBuildInTransaction(context: CommandContext, coll: string): void {
  const { transaction, db } = context;
  const existing = context.scope.read(db, coll);
  if (!transaction || !existing) return;
  if (!transaction.createdHere(db, coll))
    throw new CommandError(
      'OperationNotSupportedInTransaction',
      `Cannot create new indexes on existing collection ${db}.${coll} in a multi-document transaction.`,
    );
  if (existing.docs.size > 0)
    throw new CommandError(
      'OperationNotSupportedInTransaction',
      `Cannot create new indexes on non-empty collection ${db}.${coll} in a multi-document transaction.`,
    );
}

/** A canonical text of an index spec's fields other than `v` and `name`, order-free at the top. */
function canonical(spec: Document, only?: readonly string[]): string {
  const fields = Object.keys(spec)
    .filter((key) => key !== 'v' && key !== 'name' && (!only || only.includes(key)))
    .sort();
  return EJSON.stringify(
    fields.map((key) => [key, spec[key]]),
    { relaxed: false },
  );
}

/** What tells two indexes on the same key apart (the server allows one of each). */
const DISTINGUISHING = ['key', 'collation', 'partialFilterExpression', 'wildcardProjection'];

/**
 * Whether `spec` asks for an index that already exists (true), is new
 * (false), or conflicts with an existing one: the same name with another key
 * (IndexKeySpecsConflict) or other options, or the same index under another
 * name (IndexOptionsConflict).
 */
function alreadyExists(existing: readonly Document[], spec: Document): boolean {
  const named = existing.find((index) => index.name === spec.name);
  if (named) {
    if (canonical(named, ['key']) !== canonical(spec, ['key']))
      throw new CommandError(
        'IndexKeySpecsConflict',
        `An existing index has the same name as the requested index but a different key: ${String(spec.name)}`,
      );
    if (canonical(named) !== canonical(spec))
      throw new CommandError(
        'IndexOptionsConflict',
        `An index with the same key pattern and name but different options exists: ${String(spec.name)}`,
      );
    return true;
  }
  const same = existing.find(
    (index) => canonical(index, DISTINGUISHING) === canonical(spec, DISTINGUISHING),
  );
  if (same)
    throw new CommandError(
      'IndexOptionsConflict',
      `Index already exists with a different name: ${String(same.name)}`,
    );
  return false;
}

function parseIndexSpec(spec: unknown): Document {
  if (!isPlainObject(spec) || !isPlainObject(spec.key) || typeof spec.name !== 'string') {
    throw new CommandError(
      'FailedToParse',
      "The 'key' and 'name' fields are required for an index specification",
    );
  }
  // A unique index under a collation would make 'A' and 'a' collide; it is not modelled.
  if (spec.unique === true) checkCollation(spec.collation, 'createIndexes.indexes.collation');
  else parseCollation(spec.collation, 'createIndexes.indexes.collation');
  return spec;
}

/**
 * Builds every requested index or none: all specs are checked (shape,
 * conflicts, uniqueness over the existing documents) before the first one
 * is added, as the server validates a whole createIndexes before committing it.
 */
function createIndexes(context: CommandContext): Document {
  const { command, db } = context;
  const coll = collectionArg(command, 'createIndexes', db);
  const indexes = command.indexes;
  if (!Array.isArray(indexes) || indexes.length === 0) {
    throw new CommandError('BadValue', 'Must specify at least one index to create');
  }
  const current = context.scope.read(db, coll);
  refuseViewWrite(current, { db, coll });
  const existingIndexes = current?.indexes ?? [];
  const built: Document[] = [];
  for (const spec of indexes.map(parseIndexSpec)) {
    if (spec.name === '_id_') continue;
    // Only a new index is a build; asking again for existing ones is allowed anywhere.
    if (alreadyExists([...existingIndexes, ...built], spec)) continue;
    if (current) {
      checkIndexBuildInTransaction(context, coll);
      checkExistingForUnique(current, { db, coll }, spec);
    }
    built.push({ v: 2, ...spec });
  }
  const collection = context.scope.write(db, coll);
  const before = 1 + collection.indexes.length;
  collection.indexes = [...collection.indexes, ...built];
  for (const entry of createIndexesEntries({ db, coll }, collection, built, !current?.docs.size))
    context.scope.record(entry);
  return {
    numIndexesBefore: before,
    numIndexesAfter: 1 + collection.indexes.length,
    createdCollectionAutomatically: !current,
  };
}

function listIndexes(context: CommandContext): Document {
  const { command, db, node } = context;
  const coll = collectionArg(command, 'listIndexes', db);
  const collection = node.catalog.get(db, coll);
  if (!collection) throw new CommandError('NamespaceNotFound', `ns does not exist: ${db}.${coll}`);
  refuseViewWrite(collection, { db, coll });
  return cursorReply(
    context,
    `${db}.$cmd.listIndexes.${coll}`,
    [ID_INDEX, ...collection.indexes],
    undefined,
  );
}

function dropIndexes(context: CommandContext): Document {
  const { command, db, node } = context;
  const coll = targetCollection(context);
  const collection = node.catalog.get(db, coll);
  if (!collection) throw new CommandError('NamespaceNotFound', `ns not found ${db}.${coll}`);
  refuseViewWrite(collection, { db, coll });
  const before = 1 + collection.indexes.length;
  const target = command.index;
  const dropped = collection.indexes.filter((index) => target === '*' || index.name === target);
  if (target !== '*' && dropped.length === 0)
    throw new CommandError('IndexNotFound', `index not found with name [${String(target)}]`);
  collection.indexes = collection.indexes.filter((index) => !dropped.includes(index));
  for (const index of dropped) node.appendWrites([dropIndexEntry({ db, coll }, collection, index)]);
  return { nIndexesWas: before };
}

/** Index commands: createIndexes, listIndexes, dropIndexes. */
export const indexCommands: Record<string, CommandDefinition> = {
  createIndexes: {
    handler: createIndexes,
    inTransaction: true,
    fields: [
      'indexes',
      'commitQuorum',
      'ignoreUnknownIndexOptions',
      'isTimeseriesNamespace',
      'returnOnStart',
    ],
  },
  listIndexes: {
    handler: listIndexes,
    fields: ['cursor', 'includeBuildUUIDs', 'includeIndexBuildInfo'],
  },
  dropIndexes: { handler: dropIndexes, fields: ['index', 'collectionUUID'] },
};
