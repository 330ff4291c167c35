import { Long, type Document } from 'bson';
import {
  checkChangeStreamCommand,
  parseChangeStream,
} from '../change-stream/change-stream-spec.ts';
import { ChangeStreamCursor } from '../change-stream/change-stream-cursor.ts';
import { ArrayCursor, takeBatch, type ServerCursor } from '../cursors/server-cursor.ts';
import { CommandError } from '../errors/command-error.ts';
import { oplogDocuments } from '../oplog/oplog-collection.ts';
import { findDocuments, runPipeline } from '../query/query-engine.ts';
import { parseLet } from '../query/let-variables.ts';
import { parseCollation } from '../query/collation.ts';
import { runCollatedPipeline } from '../query/collated-pipeline.ts';
import { checkHint } from '../storage/index-hint.ts';
import { readableDocuments, refuseViewWrite } from '../storage/views.ts';
import { localSessionDocuments } from './local-sessions.ts';
import { count, distinct } from './count-and-distinct.ts';
import { checkFindOptions } from './find-options.ts';
import { outputStage, writeOutput } from './aggregate-output.ts';
import { isPlainObject } from '../storage/bson-values.ts';
import type { CommandContext, CommandDefinition } from '../server/command-context.ts';
import {
  collectionArg,
  targetCollection,
  optionalBoolean,
  optionalCount,
  optionalDocument,
  requiredLong,
} from './command-args.ts';

/** The server's default first batch size for find and aggregate. */
const DEFAULT_FIRST_BATCH = 101;

/**
 * Builds the `{ cursor: { firstBatch, id, ns } }` reply, registering a cursor
 * when more remains. `batchSize: 0` asks for no documents yet: the first
 * batch is empty and the cursor stays open for getMore, as on the server.
 */
export function cursorReply(
  context: CommandContext,
  ns: string,
  docs: Document[],
  batchSize: number | undefined,
  options: { singleBatch?: boolean; noTimeout?: boolean } = {},
): Document {
  const singleBatch = options.singleBatch ?? false;
  const deferred = batchSize === 0 && !singleBatch;
  const firstBatch = deferred ? [] : takeBatch(docs, 0, batchSize ?? DEFAULT_FIRST_BATCH);
  let id = Long.ZERO;
  if (deferred || (firstBatch.length < docs.length && !singleBatch)) {
    const cursor = new ArrayCursor(
      context.node.cursors.newId(),
      ns,
      docs,
      firstBatch.length,
      options.noTimeout,
    );
    context.node.cursors.add(cursor);
    id = cursor.id;
  }
  return { cursor: { firstBatch, id, ns } };
}

function find(context: CommandContext): Document {
  const { command, db, name } = context;
  const coll = targetCollection(context);
  const limit = optionalCount(command, name, 'limit');
  const spec = {
    filter: optionalDocument(command, name, 'filter') ?? {},
    sort: optionalDocument(command, name, 'sort'),
    projection: optionalDocument(command, name, 'projection'),
    skip: optionalCount(command, name, 'skip'),
    limit,
    variables: parseLet(command, name),
    collation: parseCollation(command.collation, 'find.collation'),
  } as const;
  const batchSize = optionalCount(command, name, 'batchSize');
  const single = {
    singleBatch: optionalBoolean(command, name, 'singleBatch') ?? false,
    noTimeout: optionalBoolean(command, name, 'noCursorTimeout') ?? false,
  };
  checkFindOptions(command, db === 'local' && coll === 'oplog.rs');
  if (db === 'local' && coll === 'oplog.rs') {
    return cursorReply(context, `${db}.${coll}`, findInOplog(context, spec), batchSize, single);
  }
  const collection = context.scope.read(db, coll);
  checkHint(collection, command.hint);
  const source = readableDocuments(
    (name) => context.scope.read(db, name),
    coll,
    spec.filter,
    Boolean(spec.collation),
  );
  const docs = findDocuments(source, {
    filter: spec.filter,
    ...(spec.sort ? { sort: spec.sort } : {}),
    ...(spec.projection ? { projection: spec.projection } : {}),
    ...(spec.skip ? { skip: spec.skip } : {}),
    ...(limit ? { limit } : {}),
    variables: spec.variables,
    collation: spec.collation,
  });
  return cursorReply(context, `${db}.${coll}`, docs, batchSize, single);
}

/**
 * `find` on `local.oplog.rs`: the retained oplog in natural order (or
 * reversed with `sort: { $natural: -1 }`, the only sort it takes). Without
 * a filter only `limit` entries are read.
 */
function findInOplog(
  context: CommandContext,
  spec: {
    filter: Document;
    sort?: Document | undefined;
    projection?: Document | undefined;
    skip?: number | undefined;
    limit?: number | undefined;
    variables?: Document | undefined;
  },
): Document[] {
  const sortKeys = Object.keys(spec.sort ?? {});
  if (sortKeys.some((key) => key !== '$natural'))
    throw new CommandError('BadValue', 'the emulator sorts local.oplog.rs by $natural only');
  const direction = (spec.sort?.$natural as number | undefined) === -1 ? -1 : 1;
  const unfiltered = Object.keys(spec.filter).length === 0;
  const take = unfiltered && spec.limit ? (spec.skip ?? 0) + spec.limit : undefined;
  return findDocuments(oplogDocuments(context.node.oplog, direction, take), {
    filter: spec.filter,
    ...(spec.projection ? { projection: spec.projection } : {}),
    ...(spec.skip ? { skip: spec.skip } : {}),
    ...(spec.limit ? { limit: spec.limit } : {}),
    variables: spec.variables,
  });
}

async function getMore(context: CommandContext): Promise<Document> {
  const { command, node, db } = context;
  // IDL `type: long`, strictly: an int32 or double cursor id is TypeMismatch (14).
  const rawId = requiredLong(command, 'getMore', 'getMore');
  if (typeof command.collection !== 'string') {
    throw new CommandError(
      'TypeMismatch',
      "BSON field 'getMore.collection' is the wrong type, expected type 'string'",
    );
  }
  const cursor = node.cursors.get(rawId);
  if (!cursor) throw new CommandError('CursorNotFound', `cursor id ${rawId.toString()} not found`);
  const ns = `${db}.${command.collection}`;
  if (cursor.ns !== ns) {
    throw new CommandError(
      'Unauthorized',
      `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${cursor.ns}`,
    );
  }
  if (cursor.busy)
    throw new CommandError(
      'CursorInUse',
      `Cursor already in use (namespace: '${ns}', id: ${rawId.toString()}).`,
    );
  cursor.busy = true;
  try {
    // getMore's batchSize 0 means no limit, unlike a first batch's.
    const batchSize = optionalCount(command, 'getMore', 'batchSize');
    const maxTimeMS = optionalCount(command, 'getMore', 'maxTimeMS');
    const batch = await cursor.next({
      ...(batchSize ? { batchSize } : {}),
      ...(maxTimeMS !== undefined ? { maxTimeMS } : {}),
      signal: context.signal,
    });
    if (batch.exhausted) node.cursors.kill(cursor.id);
    // Every use restarts the idle timeout (the server's cursorTimeoutMillis).
    else cursor.lastUsed = Date.now();
    return {
      cursor: {
        nextBatch: batch.documents,
        id: batch.exhausted ? Long.ZERO : cursor.id,
        ns,
        ...(batch.postBatchResumeToken ? { postBatchResumeToken: batch.postBatchResumeToken } : {}),
      },
    };
  } catch (error) {
    // The server kills a cursor whose getMore fails; a client that went away (or a
    // step-down) while it waited gets the same treatment, so nothing leaks.
    node.cursors.kill(cursor.id);
    throw error;
  } finally {
    cursor.busy = false;
  }
}

function killCursors(context: CommandContext): Document {
  const ids = context.command.cursors;
  if (!Array.isArray(ids))
    throw new CommandError(
      'TypeMismatch',
      "BSON field 'killCursors.cursors' is the wrong type, expected type 'array'",
    );
  const cursorsKilled: unknown[] = [];
  const cursorsNotFound: unknown[] = [];
  for (const id of ids as Array<Long | number>) {
    if (context.node.cursors.kill(id)) cursorsKilled.push(id);
    else cursorsNotFound.push(id);
  }
  return { cursorsKilled, cursorsNotFound, cursorsAlive: [], cursorsUnknown: [] };
}

async function aggregate(context: CommandContext): Promise<Document> {
  const { command, db, node } = context;
  const pipeline = command.pipeline;
  if (!Array.isArray(pipeline) || !pipeline.every((stage) => isPlainObject(stage))) {
    throw new CommandError(
      'TypeMismatch',
      "BSON field 'aggregate.pipeline' is the wrong type, expected type 'array'",
    );
  }
  if (command.explain === true) {
    // Query plans have no meaning here; an honest refusal beats results that look like a plan.
    throw new CommandError(
      'IllegalOperation',
      'explain is not supported by the Tributary MongoDB emulator',
    );
  }
  const cursorOption = command.cursor;
  if (!isPlainObject(cursorOption) && command.explain !== true) {
    throw new CommandError(
      'FailedToParse',
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  }
  const batchSize = isPlainObject(cursorOption)
    ? optionalCount(cursorOption, 'aggregate.cursor', 'batchSize')
    : undefined;
  const stages = pipeline as Document[];
  // A collectionUUID needs a collection (aggregate: 1 has none: InvalidNamespace).
  if (command.collectionUUID !== undefined) targetCollection(context);
  if (stages[0] && '$changeStream' in stages[0]) {
    if (context.transaction) {
      throw new CommandError(
        'OperationNotSupportedInTransaction',
        'Cannot run aggregate with $changeStream in a multi-document transaction.',
      );
    }
    // A view has no oplog of its own to watch.
    if (typeof command.aggregate === 'string') {
      const watched = { db, coll: command.aggregate };
      refuseViewWrite(context.scope.read(db, command.aggregate), watched);
    }
    const spec = parseChangeStream(db, command.aggregate, stages);
    checkChangeStreamCommand(command);
    const ns =
      typeof command.aggregate === 'string' ? `${db}.${command.aggregate}` : `${db}.$cmd.aggregate`;
    const cursor = new ChangeStreamCursor({
      id: node.cursors.newId(),
      ns,
      spec,
      oplog: node.oplog,
      clock: node.clock,
      lookup: node.lookup,
    });
    const batch = cursor.firstBatch(batchSize ?? DEFAULT_FIRST_BATCH);
    if (!batch.exhausted) node.cursors.add(cursor as ServerCursor);
    return {
      cursor: {
        firstBatch: batch.documents,
        postBatchResumeToken: batch.postBatchResumeToken,
        id: batch.exhausted ? Long.ZERO : cursor.id,
        ns,
      },
    };
  }
  for (const stage of stages) {
    const name = Object.keys(stage)[0];
    if (name === '$changeStream')
      throw new CommandError(
        'Location40602',
        '$changeStream is only valid as the first stage in a pipeline.',
      );
  }
  const output = outputStage(stages);
  let source: Document[] = [];
  let ns = `${db}.$cmd.aggregate`;
  let rest = output ? stages.slice(0, -1) : stages;
  if (stages[0] && '$listLocalSessions' in stages[0]) {
    source = localSessionDocuments(context, stages[0].$listLocalSessions);
    rest = rest.slice(1);
  } else if (command.aggregate !== 1) {
    const coll = collectionArg(command, 'aggregate', db);
    const collection = context.scope.read(db, coll);
    checkHint(collection, command.hint);
    source = readableDocuments((name) => context.scope.read(db, name), coll);
    ns = `${db}.${coll}`;
  }
  const options = {
    resolve: (name: string) => readableDocuments((other) => context.scope.read(db, other), name),
    variables: parseLet(command, 'aggregate'),
  };
  const collation = parseCollation(command.collation, 'aggregate.collation');
  if (collation && output)
    throw new CommandError(
      'BadValue',
      `${Object.keys(output)[0]} under a non-simple collation is not supported by the Tributary MongoDB emulator`,
    );
  const docs = collation
    ? runCollatedPipeline(source, rest, { ...options, collation })
    : runPipeline(source, rest, options);
  if (output) {
    const bypass = optionalBoolean(command, 'aggregate', 'bypassDocumentValidation') ?? false;
    await writeOutput(context, output, docs, bypass);
    return cursorReply(context, ns, [], batchSize);
  }
  return cursorReply(context, ns, docs, batchSize);
}

/** find, getMore, killCursors, aggregate (including change streams), count, distinct. */
export const readCommands: Record<string, CommandDefinition> = {
  find: {
    handler: find,
    inTransaction: true,
    fields: [
      'filter',
      'sort',
      'projection',
      'skip',
      'limit',
      'batchSize',
      'singleBatch',
      'max',
      'min',
      'returnKey',
      'showRecordId',
      'tailable',
      'oplogReplay',
      'noCursorTimeout',
      'awaitData',
      'allowPartialResults',
      'allowDiskUse',
      'readOnce',
      'let',
      'collation',
      'hint',
      'collectionUUID',
    ],
  },
  getMore: {
    handler: getMore,
    inTransaction: true,
    fields: ['collection', 'batchSize', 'term', 'lastKnownCommittedOpTime'],
  },
  killCursors: { handler: killCursors, inTransaction: true, fields: ['cursors'] },
  aggregate: {
    handler: aggregate,
    inTransaction: true,
    fields: [
      'pipeline',
      'explain',
      'allowDiskUse',
      'cursor',
      'needsMerge',
      'fromMongos',
      'let',
      'collation',
      'hint',
      'collectionUUID',
    ],
  },
  // Refused in a transaction by name (checkAllowedInTransaction), with the server's pointer.
  count: {
    handler: count,
    fields: ['query', 'limit', 'skip', 'fields', 'collation', 'hint', 'collectionUUID'],
  },
  distinct: {
    handler: distinct,
    inTransaction: true,
    fields: ['key', 'query', 'mirrored', 'sampleId', 'collation', 'hint', 'collectionUUID'],
  },
};
