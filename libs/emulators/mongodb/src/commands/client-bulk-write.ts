import { Long, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { parseCollation } from '../query/collation.ts';
import { parseLet } from '../query/let-variables.ts';
import { isPlainObject } from '../storage/bson-values.ts';
import { validateCollName, validateDbName } from '../storage/catalog.ts';
import {
  deleteDocuments,
  insertDocument,
  updateDocuments,
  type Namespace,
} from '../storage/document-writes.ts';
import type { CommandContext, CommandDefinition } from '../server/command-context.ts';
import { optionalBoolean, requiredDocuments } from './command-args.ts';
import {
  bypassValidation,
  checkUpdateStatements,
  runStatements,
  toStatement,
} from './write-commands.ts';

/**
 * The client-level `bulkWrite` command of MongoDB 8.0 (what
 * `MongoClient.bulkWrite` sends to `admin`): inserts, updates and deletes
 * across namespaces in one command, each op naming its namespace by index
 * into `nsInfo`. Every op runs through the same write machinery as the
 * `insert`/`update`/`delete` commands; the reply is a cursor of per-op
 * results (only the errors with `errorsOnly`) and the totals.
 * https://github.com/mongodb/specifications/blob/master/source/crud/bulk-write.md
 */

/** Counts the reply carries whatever `errorsOnly` says. */
interface Totals {
  nInserted: number;
  nMatched: number;
  nModified: number;
  nUpserted: number;
  nDeleted: number;
}

function namespaces(command: Document): Namespace[] {
  return requiredDocuments(command, 'bulkWrite', 'nsInfo').map((info) => {
    const ns: unknown = info.ns;
    if (typeof ns !== 'string')
      throw new CommandError(
        'TypeMismatch',
        "BSON field 'bulkWrite.nsInfo.ns' is the wrong type, expected type 'string'",
      );
    const dot = ns.indexOf('.');
    if (dot <= 0) throw new CommandError('InvalidNamespace', `Invalid namespace specified '${ns}'`);
    const db = validateDbName(ns.slice(0, dot));
    return { db, coll: validateCollName(db, ns.slice(dot + 1)) };
  });
}

/** The op's kind and the index of its namespace. */
function opTarget(
  op: Document,
  index: number,
  count: number,
): ['insert' | 'update' | 'delete', number] {
  const kind = Object.keys(op)[0];
  if (kind !== 'insert' && kind !== 'update' && kind !== 'delete')
    throw new CommandError(
      'FailedToParse',
      `Unrecognized bulkWrite operation at index ${index}: ${String(kind)}`,
    );
  const nsIndex = Number(op[kind]);
  if (!Number.isInteger(nsIndex) || nsIndex < 0 || nsIndex >= count)
    throw new CommandError('BadValue', `BulkWrite ops entry ${index} has an invalid nsInfo index`);
  return [kind, nsIndex];
}

/** An update op in the shape of an `update` command's statement. */
function asUpdateStatement(op: Document): Document {
  const statement: Document = { q: op.filter, u: op.updateMods };
  for (const field of ['multi', 'upsert', 'arrayFilters', 'collation', 'hint', 'sort'])
    if (op[field] !== undefined) statement[field] = op[field];
  return statement;
}

async function bulkWrite(context: CommandContext): Promise<Document> {
  const { command } = context;
  const ops = requiredDocuments(command, 'bulkWrite', 'ops');
  const nsInfo = namespaces(command);
  const errorsOnly = optionalBoolean(command, 'bulkWrite', 'errorsOnly') ?? false;
  const variables = parseLet(command, 'bulkWrite');
  const bypass = bypassValidation(context);
  const targets = ops.map((op, index) => opTarget(op, index, nsInfo.length));
  checkUpdateStatements(
    ops.filter((_, index) => targets[index]?.[0] === 'update').map(asUpdateStatement),
  );
  const totals: Totals = { nInserted: 0, nMatched: 0, nModified: 0, nUpserted: 0, nDeleted: 0 };
  const results: Document[] = [];
  const errors = await runStatements(context, ops, (op, idx) => {
    const [kind, nsIndex] = targets[idx] as [string, number];
    const ns = nsInfo[nsIndex] as Namespace;
    if (kind === 'insert') {
      if (!isPlainObject(op.document))
        throw new CommandError(
          'NoSuchKey',
          "BSON field 'bulkWrite.insert.document' is missing but a required field",
        );
      insertDocument(context.scope, ns, op.document, bypass);
      totals.nInserted += 1;
      results.push({ ok: 1, idx, n: 1 });
    } else if (kind === 'update') {
      const outcome = updateDocuments(context.scope, ns, {
        ...toStatement(asUpdateStatement(op), variables),
        bypassValidation: bypass,
      });
      const upserted = outcome.upsertedId !== undefined;
      totals.nMatched += outcome.matched;
      totals.nModified += outcome.modified;
      if (upserted) totals.nUpserted += 1;
      results.push({
        ok: 1,
        idx,
        n: upserted ? 1 : outcome.matched,
        nModified: outcome.modified,
        ...(upserted ? { upserted: { _id: outcome.upsertedId } } : {}),
      });
    } else {
      if (!isPlainObject(op.filter))
        throw new CommandError(
          'NoSuchKey',
          "BSON field 'bulkWrite.delete.filter' is missing but a required field",
        );
      const multi = optionalBoolean(op, 'bulkWrite.delete', 'multi') ?? false;
      const deleted = deleteDocuments(context.scope, ns, op.filter, multi ? 0 : 1, {
        variables,
        hint: op.hint,
        collation: parseCollation(op.collation, 'bulkWrite.delete.collation'),
      });
      totals.nDeleted += deleted.length;
      results.push({ ok: 1, idx, n: deleted.length });
    }
  });
  const failed = errors.map(({ index, ...rest }) => ({ ok: 0, idx: index as number, ...rest }));
  const firstBatch = errorsOnly
    ? failed
    : [...results, ...failed].sort((a, b) => (a.idx as number) - (b.idx as number));
  return {
    cursor: { id: Long.ZERO, firstBatch, ns: 'admin.$cmd.bulkWrite' },
    nErrors: failed.length,
    ...totals,
  };
}

/** The client-level bulkWrite. */
export const clientBulkWriteCommands: Record<string, CommandDefinition> = {
  bulkWrite: {
    handler: bulkWrite,
    adminOnly: true,
    inTransaction: true,
    retryableWrite: true,
    fields: ['ops', 'nsInfo', 'ordered', 'errorsOnly', 'cursor', 'let'],
  },
};
