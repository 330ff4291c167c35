import type { Document } from 'bson';
import { CommandError, isCommandError } from '../errors/command-error.ts';
import {
  deleteDocuments,
  insertDocument,
  updateDocuments,
  type Namespace,
  type UpdateStatement,
} from '../storage/document-writes.ts';
import { isPlainObject } from '../storage/bson-values.ts';
import type { CommandContext, CommandDefinition } from '../server/command-context.ts';
import { untilUnblocked } from './until-unblocked.ts';
import {
  targetCollection,
  optionalBoolean,
  optionalDocument,
  requiredDocuments,
} from './command-args.ts';
import { findDocuments } from '../query/query-engine.ts';
import { parseCollation } from '../query/collation.ts';
import { parseLet } from '../query/let-variables.ts';

/** A per-statement failure in the `writeErrors` array. */
function writeError(index: number, error: unknown): Document {
  const failure = isCommandError(error) ? error : new CommandError('InternalError', String(error));
  return {
    index,
    code: failure.code,
    codeName: failure.codeName,
    errmsg: failure.message,
    ...failure.extra,
  };
}

/**
 * Runs statements in order; an ordered batch stops at the first failure, an
 * unordered one carries on (the server's write command semantics). Inside a
 * transaction any failure aborts the whole transaction instead.
 */
export async function runStatements<T>(
  context: CommandContext,
  statements: T[],
  run: (statement: T, index: number) => void,
): Promise<Document[]> {
  const ordered = optionalBoolean(context.command, context.name, 'ordered') ?? true;
  const errors: Document[] = [];
  for (let index = 0; index < statements.length; index++) {
    try {
      await untilUnblocked(context, () => run(statements[index] as T, index));
    } catch (error) {
      if (context.transaction) {
        context.transaction.abort();
        throw error;
      }
      // An interrupted command (maxTimeMS, step-down) fails as a whole, not as one statement.
      if (isCommandError(error) && (error.code === 50 || error === context.signal.reason))
        throw error;
      errors.push(writeError(index, error));
      if (ordered) break;
    }
  }
  return errors;
}

/** The command's `bypassDocumentValidation`. */
export function bypassValidation(context: CommandContext): boolean {
  return optionalBoolean(context.command, context.name, 'bypassDocumentValidation') ?? false;
}

function namespaceOf(context: CommandContext): Namespace {
  return { db: context.db, coll: targetCollection(context) };
}

async function insert(context: CommandContext): Promise<Document> {
  const ns = namespaceOf(context);
  const documents = requiredDocuments(context.command, 'insert', 'documents');
  const bypass = bypassValidation(context);
  let n = 0;
  const errors = await runStatements(context, documents, (doc) => {
    insertDocument(context.scope, ns, doc, bypass);
    n += 1;
  });
  return { n, ...(errors.length > 0 ? { writeErrors: errors } : {}) };
}

/** Fields of one update statement (the server's UpdateOpEntry IDL). */
const UPDATE_STATEMENT_FIELDS = new Set([
  'q',
  'u',
  'c',
  'arrayFilters',
  'multi',
  'upsert',
  'upsertSupplied',
  'collation',
  'hint',
  'sort',
  'sampleId',
  'allowShardKeyUpdatesWithoutFullShardKeyInQuery',
]);

/**
 * `multi` and `upsert` are the IDL's `safeBool`: a boolean or a number
 * (non-zero is true); anything else is TypeMismatch, as on the server.
 */
function safeBool(raw: Document, field: 'multi' | 'upsert'): boolean {
  const value: unknown = raw[field];
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  const bsonType = (value as { _bsontype?: string })._bsontype;
  if (
    bsonType === 'Long' ||
    bsonType === 'Int32' ||
    bsonType === 'Double' ||
    bsonType === 'Decimal128'
  )
    return Number(String(value)) !== 0;
  throw new CommandError(
    'TypeMismatch',
    `BSON field 'update.updates.${field}' is the wrong type '${typeof value}', expected types '[bool, long, int, decimal, double]'`,
  );
}

/** Fields of one delete statement (the server's DeleteOpEntry IDL). */
const DELETE_STATEMENT_FIELDS = new Set(['q', 'limit', 'collation', 'hint', 'sampleId']);

/** An unknown field in a statement fails the whole command (40415), as the server's IDL parser does. */
function checkStatementFields(raw: Document, allowed: Set<string>, where: string): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.has(key))
      throw new CommandError(
        'UnknownBsonField',
        `BSON field '${where}.${key}' is an unknown field.`,
      );
  }
}

/**
 * Parses every statement's shape before any runs: an unknown or wrongly
 * typed field fails the whole command, as the server's parser does.
 */
export function checkUpdateStatements(updates: readonly Document[]): void {
  for (const raw of updates) {
    checkStatementFields(raw, UPDATE_STATEMENT_FIELDS, 'update.updates');
    safeBool(raw, 'multi');
    safeBool(raw, 'upsert');
    parseCollation(raw.collation, 'update.updates.collation');
  }
}

/** An update statement's `c`: constants, for a pipeline update only (51198 otherwise, as on the server). */
function updateConstants(raw: Document): Document | undefined {
  if (raw.c === undefined) return undefined;
  if (!isPlainObject(raw.c))
    throw new CommandError(
      'TypeMismatch',
      "BSON field 'update.updates.c' is the wrong type, expected type 'object'",
    );
  if (!Array.isArray(raw.u))
    throw new CommandError(
      'Location51198',
      'Constant values may only be specified for pipeline updates',
    );
  return raw.c;
}

/** One raw update statement (UpdateOpEntry) as the storage layer runs it. */
export function toStatement(raw: Document, variables: Document | undefined): UpdateStatement {
  if (!isPlainObject(raw.q))
    throw new CommandError(
      'NoSuchKey',
      "BSON field 'update.updates.q' is missing but a required field",
    );
  if (!isPlainObject(raw.u) && !Array.isArray(raw.u)) {
    throw new CommandError(
      'NoSuchKey',
      "BSON field 'update.updates.u' is missing but a required field",
    );
  }
  return {
    q: raw.q,
    u: raw.u as Document,
    constants: updateConstants(raw),
    upsert: safeBool(raw, 'upsert'),
    multi: safeBool(raw, 'multi'),
    ...(Array.isArray(raw.arrayFilters) ? { arrayFilters: raw.arrayFilters as Document[] } : {}),
    ...(isPlainObject(raw.sort) ? { sort: raw.sort } : {}),
    variables,
    hint: raw.hint,
    collation: parseCollation(raw.collation, 'update.updates.collation'),
  };
}

async function update(context: CommandContext): Promise<Document> {
  const ns = namespaceOf(context);
  const updates = requiredDocuments(context.command, 'update', 'updates');
  checkUpdateStatements(updates);
  const variables = parseLet(context.command, 'update');
  const bypass = bypassValidation(context);
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const errors = await runStatements(context, updates, (raw, index) => {
    const outcome = updateDocuments(context.scope, ns, {
      ...toStatement(raw, variables),
      bypassValidation: bypass,
    });
    if (outcome.upsertedId !== undefined) {
      upserted.push({ index, _id: outcome.upsertedId });
      n += 1;
    } else {
      n += outcome.matched;
      nModified += outcome.modified;
    }
  });
  return {
    n,
    nModified,
    ...(upserted.length > 0 ? { upserted } : {}),
    ...(errors.length > 0 ? { writeErrors: errors } : {}),
  };
}

async function remove(context: CommandContext): Promise<Document> {
  const ns = namespaceOf(context);
  const deletes = requiredDocuments(context.command, 'delete', 'deletes');
  for (const raw of deletes) checkStatementFields(raw, DELETE_STATEMENT_FIELDS, 'delete.deletes');
  const variables = parseLet(context.command, 'delete');
  let n = 0;
  const errors = await runStatements(context, deletes, (raw) => {
    if (!isPlainObject(raw.q))
      throw new CommandError(
        'NoSuchKey',
        "BSON field 'delete.deletes.q' is missing but a required field",
      );
    const limit = Number(raw.limit ?? 0);
    if (limit !== 0 && limit !== 1)
      throw new CommandError(
        'FailedToParse',
        `The limit field in delete objects must be 0 or 1. Got ${limit}`,
      );
    n += deleteDocuments(context.scope, ns, raw.q, limit, {
      variables,
      hint: raw.hint,
      collation: parseCollation(raw.collation, 'delete.deletes.collation'),
    }).length;
  });
  return { n, ...(errors.length > 0 ? { writeErrors: errors } : {}) };
}

function project(doc: Document | null | undefined, fields: Document | undefined): Document | null {
  if (!doc) return null;
  if (!fields || Object.keys(fields).length === 0) return doc;
  return findDocuments([doc], { projection: fields })[0] ?? null;
}

function findAndModify(context: CommandContext): Promise<Document> {
  return untilUnblocked(context, () => findAndModifyOnce(context));
}

function findAndModifyOnce(context: CommandContext): Document {
  const { command } = context;
  const ns = namespaceOf(context);
  const query = optionalDocument(command, context.name, 'query') ?? {};
  const sort = optionalDocument(command, context.name, 'sort');
  const fields = optionalDocument(command, context.name, 'fields');
  const remove = optionalBoolean(command, context.name, 'remove') ?? false;
  const returnNew = optionalBoolean(command, context.name, 'new') ?? false;
  const upsert = optionalBoolean(command, context.name, 'upsert') ?? false;
  const variables = parseLet(command, 'findAndModify');
  const collation = parseCollation(command.collation, 'findAndModify.collation');
  if (remove && command.update !== undefined) {
    throw new CommandError('FailedToParse', 'Cannot specify both an update and remove=true');
  }
  if (!remove && command.update === undefined) {
    throw new CommandError('FailedToParse', 'Either an update or remove=true must be specified');
  }
  if (remove) {
    if (upsert || returnNew)
      throw new CommandError('FailedToParse', 'Cannot specify both upsert=true and remove=true');
    const [deleted] = deleteDocuments(context.scope, ns, query, 1, {
      sort,
      variables,
      hint: command.hint,
      collation,
    });
    return { lastErrorObject: { n: deleted ? 1 : 0 }, value: project(deleted, fields) };
  }
  const statement: UpdateStatement = {
    q: query,
    u: command.update as Document,
    upsert,
    multi: false,
    ...(Array.isArray(command.arrayFilters)
      ? { arrayFilters: command.arrayFilters as Document[] }
      : {}),
    ...(sort ? { sort } : {}),
    variables,
    hint: command.hint,
    bypassValidation: bypassValidation(context),
    collation,
  };
  const outcome = updateDocuments(context.scope, ns, statement);
  if (outcome.upsertedId !== undefined) {
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: outcome.upsertedId },
      value: returnNew ? project(outcome.after, fields) : null,
    };
  }
  return {
    lastErrorObject: { n: outcome.matched, updatedExisting: outcome.matched > 0 },
    value: project(returnNew ? outcome.after : outcome.before, fields),
  };
}

/** findAndModify's own fields, from the server's IDL. */
const FIND_AND_MODIFY_FIELDS = [
  'query',
  'fields',
  'sort',
  'remove',
  'update',
  'new',
  'upsert',
  'arrayFilters',
  'stmtId',
  'sampleId',
  'bypassEmptyTsReplacement',
  'let',
  'collation',
  'hint',
  'collectionUUID',
];

/** insert, update, delete and findAndModify. */
export const writeCommands: Record<string, CommandDefinition> = {
  insert: {
    handler: insert,
    inTransaction: true,
    retryableWrite: true,
    fields: ['documents', 'ordered', 'collectionUUID'],
  },
  update: {
    handler: update,
    inTransaction: true,
    retryableWrite: true,
    fields: ['updates', 'ordered', 'let', 'collectionUUID'],
  },
  delete: {
    handler: remove,
    inTransaction: true,
    retryableWrite: true,
    fields: ['deletes', 'ordered', 'let', 'collectionUUID'],
  },
  findAndModify: {
    handler: findAndModify,
    inTransaction: true,
    retryableWrite: true,
    fields: FIND_AND_MODIFY_FIELDS,
  },
  findandmodify: {
    handler: findAndModify,
    inTransaction: true,
    retryableWrite: true,
    canonicalName: 'findAndModify',
    fields: FIND_AND_MODIFY_FIELDS,
  },
};
