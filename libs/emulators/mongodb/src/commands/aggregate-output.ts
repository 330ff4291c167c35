import { UUID, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { findDocuments, runPipeline } from '../query/query-engine.ts';
import { bsonEquals, isPlainObject } from '../storage/bson-values.ts';
import { validateCollName, validateDbName } from '../storage/catalog.ts';
import {
  duplicateKeyError,
  insertDocument,
  updateDocuments,
  type Namespace,
} from '../storage/document-writes.ts';
import type { CommandContext } from '../server/command-context.ts';
import { refuseViewWrite } from '../storage/views.ts';
import type { WriteScope } from '../storage/write-scope.ts';
import { untilUnblocked } from './until-unblocked.ts';

/**
 * The writing stages of an aggregation, `$out` and `$merge`, run after the
 * rest of the pipeline (by mingo) through the emulator's own write
 * machinery, so they are validated, indexed and recorded in the oplog like
 * any other write. `$out` fills a temporary collection and renames it over
 * the target, as the server does; `$merge` writes document by document.
 * https://www.mongodb.com/docs/manual/reference/operator/aggregation/out/
 * https://www.mongodb.com/docs/manual/reference/operator/aggregation/merge/
 */

/** True when a writing stage appears anywhere in `value` (a sub-pipeline). */
function containsOutput(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(containsOutput);
  if (!isPlainObject(value)) return false;
  return Object.entries(value).some(
    ([key, v]) => key === '$out' || key === '$merge' || containsOutput(v),
  );
}

/** The writing stage ending `stages`, if any; it must be the last, never in a sub-pipeline. */
export function outputStage(stages: Document[]): Document | undefined {
  const nested = stages.some((stage) =>
    Object.entries(stage).some(
      ([key, spec]) => key !== '$out' && key !== '$merge' && containsOutput(spec),
    ),
  );
  if (nested)
    throw CommandError.fromCode(51047, '$out and $merge are not allowed within a sub-pipeline');
  const index = stages.findIndex((stage) => '$out' in stage || '$merge' in stage);
  if (index < 0) return undefined;
  const stage = stages[index] as Document;
  if (index !== stages.length - 1)
    throw CommandError.fromCode(
      40601,
      `${Object.keys(stage)[0]} can only be the final stage in the pipeline`,
    );
  return stage;
}

function targetNamespace(spec: unknown, db: string, stage: string, field: string): Namespace {
  if (typeof spec === 'string') return { db, coll: validateCollName(db, spec) };
  if (isPlainObject(spec) && typeof spec.coll === 'string') {
    const target = spec.db === undefined ? db : validateDbName(spec.db);
    return { db: target, coll: validateCollName(target, spec.coll) };
  }
  throw CommandError.fromCode(
    stage === '$out' ? 16990 : 51178,
    `${stage} '${field}' must be a string or an object with a 'coll' field`,
  );
}

/** Writes `docs`, the output of the rest of the pipeline, as `stage` says. */
export async function writeOutput(
  context: CommandContext,
  stage: Document,
  docs: Document[],
  bypassValidation: boolean,
): Promise<void> {
  const name = Object.keys(stage)[0] as '$out' | '$merge';
  if (name === '$out') writeOut(context, stage.$out, docs, bypassValidation);
  else await writeMerge(context, stage.$merge, docs, bypassValidation);
}

function writeOut(
  context: CommandContext,
  spec: unknown,
  docs: Document[],
  bypassValidation: boolean,
): void {
  const { node } = context;
  const target = targetNamespace(spec, context.db, '$out', '$out');
  // Duplicates leave the target untouched: checked before anything is written.
  const seen = new Set<unknown>();
  const ids = docs.filter((doc) => '_id' in doc).map((doc) => doc._id);
  for (const id of ids) {
    if ([...seen].some((other) => bsonEquals(other, id))) throw duplicateKeyError(target, id);
    seen.add(id);
  }
  const temp = { db: target.db, coll: `tmp.agg_out.${new UUID().toHexString(false)}` };
  const existing = node.catalog.get(target.db, target.coll);
  refuseViewWrite(existing, target);
  const staging = node.catalog.ensure(temp.db, temp.coll).collection;
  // The target keeps its indexes and options (validators included).
  if (existing) {
    staging.indexes = [...existing.indexes];
    staging.options = { ...existing.options };
  }
  try {
    for (const doc of docs) insertDocument(node.direct, temp, doc, bypassValidation);
  } catch (error) {
    node.dropCollection(temp.db, temp.coll);
    throw error;
  }
  node.rename(temp, target, true);
}

type WhenMatched = 'replace' | 'keepExisting' | 'merge' | 'fail' | Document[];
type WhenNotMatched = 'insert' | 'discard' | 'fail';

type MergeSpec = ReturnType<typeof mergeSpec>;

function mergeSpec(spec: unknown, db: string) {
  const options: Document = typeof spec === 'string' ? { into: spec } : (spec as Document);
  if (!isPlainObject(options))
    throw CommandError.fromCode(51182, '$merge only takes a string or an object');
  const on = options.on === undefined ? ['_id'] : [options.on].flat();
  if (!on.every((field): field is string => typeof field === 'string'))
    throw CommandError.fromCode(51186, "$merge 'on' field must be a string or an array of strings");
  const whenMatched = (options.whenMatched ?? 'merge') as WhenMatched;
  const whenNotMatched = (options.whenNotMatched ?? 'insert') as WhenNotMatched;
  if (
    !Array.isArray(whenMatched) &&
    !['replace', 'keepExisting', 'merge', 'fail'].includes(whenMatched)
  )
    throw new CommandError(
      'BadValue',
      `Enumeration value '${String(whenMatched)}' for field 'whenMatched' is not a valid value.`,
    );
  if (!['insert', 'discard', 'fail'].includes(whenNotMatched))
    throw new CommandError(
      'BadValue',
      `Enumeration value '${String(whenNotMatched)}' for field 'whenNotMatched' is not a valid value.`,
    );
  return {
    target: targetNamespace(options.into, db, '$merge', 'into'),
    on,
    whenMatched,
    whenNotMatched,
    let: isPlainObject(options.let) ? options.let : { new: '$$ROOT' },
  };
}

/**
 * Merges document by document. A document an open transaction holds makes
 * that document's write wait for the transaction to end (bounded by
 * `maxTimeMS`), as any write outside transactions does; the match is looked
 * up again after the wait, since the transaction may have changed it.
 */
async function writeMerge(
  context: CommandContext,
  spec: unknown,
  docs: Document[],
  bypassValidation: boolean,
): Promise<void> {
  const merge = mergeSpec(spec, context.db);
  const { target, on } = merge;
  const existing = context.scope.read(target.db, target.coll);
  const onId = on.length === 1 && on[0] === '_id';
  if (!onId && !existing?.indexes.some((index) => isUniqueOn(index, on)))
    throw CommandError.fromCode(
      51183,
      'Cannot find index to verify that join fields will be unique',
    );
  for (const doc of docs)
    await untilUnblocked(context, () => mergeOne(context.scope, merge, doc, bypassValidation));
}

function mergeOne(
  scope: WriteScope,
  { target, on, whenMatched, whenNotMatched, let: letSpec }: MergeSpec,
  doc: Document,
  bypassValidation: boolean,
): void {
  const onId = on.length === 1 && on[0] === '_id';
  // A result without _id, merged on _id, gets a new one: it can match nothing.
  if (onId && !('_id' in doc)) {
    if (whenNotMatched === 'insert') insertDocument(scope, target, doc, bypassValidation);
    else if (whenNotMatched === 'fail') throw noMatch();
    return;
  }
  const key: Document = {};
  for (const field of on) {
    const value = field
      .split('.')
      .reduce<unknown>((node, part) => (node as Document | undefined)?.[part], doc);
    if (value === undefined || value === null || Array.isArray(value))
      throw CommandError.fromCode(
        51132,
        `$merge write error: 'on' field '${field}' cannot be missing, null, undefined or an array`,
      );
    key[field] = value;
  }
  const collection = scope.read(target.db, target.coll);
  const [matched] = collection
    ? findDocuments(collection.candidates(key), { filter: key, limit: 1 })
    : [];
  if (!matched) {
    if (whenNotMatched === 'fail') throw noMatch();
    if (whenNotMatched === 'insert') insertDocument(scope, target, doc, bypassValidation);
    return;
  }
  if (whenMatched === 'keepExisting') return;
  if (whenMatched === 'fail')
    throw new CommandError(
      'DuplicateKey',
      `$merge with whenMatched: fail found an existing document with the same values for the 'on' field(s)`,
    );
  const { _id: _ignored, ...fields } = doc;
  if (whenMatched === 'merge' && Object.keys(fields).length === 0) return;
  const u = Array.isArray(whenMatched)
    ? whenMatched
    : whenMatched === 'replace'
      ? doc
      : { $set: fields };
  const variables = Array.isArray(whenMatched)
    ? runPipeline([doc], [{ $replaceWith: letSpec }])[0]
    : undefined;
  updateDocuments(scope, target, {
    q: { _id: matched._id },
    u,
    multi: false,
    upsert: false,
    variables,
    bypassValidation,
  });
}

function noMatch(): CommandError {
  return CommandError.fromCode(
    13113,
    '$merge could not find a matching document in the target collection for at least one document in the source collection',
  );
}

function isUniqueOn(index: Document, on: string[]): boolean {
  if (index.unique !== true || !isPlainObject(index.key)) return false;
  const keys = Object.keys(index.key);
  return keys.length === on.length && on.every((field) => keys.includes(field));
}
