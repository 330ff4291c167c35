import { calculateObjectSize, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { checkCollation, parseCollation } from '../query/collation.ts';
import { findDocuments, runPipeline } from '../query/query-engine.ts';
import { MAX_USER_DOCUMENT_BYTES } from '../storage/document-size-limits.ts';
import { checkHint } from '../storage/index-hint.ts';
import { readableDocuments } from '../storage/views.ts';
import type { CommandContext } from '../server/command-context.ts';
import { optionalCount, optionalDocument, targetCollection } from './command-args.ts';

/** The `count` and `distinct` commands, over a collection or a view. */

export function count(context: CommandContext): Document {
  const { command, db, name } = context;
  const coll = targetCollection(context);
  const collection = context.scope.read(db, coll);
  checkHint(collection, command.hint);
  const docs = findDocuments(
    readableDocuments((name) => context.scope.read(db, name), coll),
    {
      filter: optionalDocument(command, name, 'query') ?? {},
      skip: optionalCount(command, name, 'skip') ?? 0,
      limit: optionalCount(command, name, 'limit') ?? 0,
      collation: parseCollation(command.collation, 'count.collation'),
    },
  );
  return { n: docs.length };
}

export function distinct(context: CommandContext): Document {
  const { command, db, name } = context;
  const coll = targetCollection(context);
  if (typeof command.key !== 'string')
    throw new CommandError(
      'TypeMismatch',
      "BSON field 'distinct.key' is the wrong type, expected type 'string'",
    );
  const collection = context.scope.read(db, coll);
  checkHint(collection, command.hint);
  checkCollation(command.collation, 'distinct.collation');
  const source = readableDocuments((name) => context.scope.read(db, name), coll);
  const filter = optionalDocument(command, name, 'query') ?? {};
  const [result] = runPipeline(source, [
    { $match: filter },
    { $unwind: { path: `$${command.key}`, preserveNullAndEmptyArrays: false } },
    { $group: { _id: null, values: { $addToSet: `$${command.key}` } } },
  ]);
  const values = (result?.values as unknown[] | undefined) ?? [];
  // The server caps the answer, one document, well before it could not be sent.
  if (calculateObjectSize({ values }) > MAX_USER_DOCUMENT_BYTES)
    throw new CommandError('Location17217', 'distinct too big, 16mb cap');
  return { values };
}
