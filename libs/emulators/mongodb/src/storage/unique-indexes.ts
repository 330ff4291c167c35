import { EJSON, ObjectId, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { bsonEquals, isPlainObject } from './bson-values.ts';
import type { CollectionData } from './collection-data.ts';
import { compileFilter } from '../query/query-engine.ts';

/**
 * Enforces `unique: true` secondary indexes: a missing field counts as
 * null, so two documents without it collide — unless the index is sparse or
 * partial and does not hold them.
 * Checked by scanning (the emulator keeps no index structures), so only
 * collections that have a unique index pay for it. Array values are compared
 * as whole values (no multikey expansion).
 */
export function checkUniqueIndexes(
  collection: CollectionData,
  ns: { db: string; coll: string },
  doc: Document,
): void {
  for (const index of collection.indexes) {
    if (index.unique !== true || !isPlainObject(index.key)) continue;
    const fields = Object.keys(index.key);
    const indexed = indexPredicate(index, fields);
    if (!indexed(doc)) continue;
    const values = fields.map((field) => valueAt(doc, field));
    for (const other of collection.docs.values()) {
      if (bsonEquals(other._id, doc._id) || !indexed(other)) continue;
      if (fields.every((field, i) => bsonEquals(valueAt(other, field), values[i]))) {
        throw duplicateOnIndex(ns, String(index.name), fields, values, index.key);
      }
    }
  }
}

/**
 * Which documents an index holds: a sparse index only those with at least
 * one of its fields, a partial index only those its partialFilterExpression
 * matches; others take no part in its uniqueness.
 */
function indexPredicate(index: Document, fields: string[]): (doc: Document) => boolean {
  const partial = isPlainObject(index.partialFilterExpression)
    ? compileFilter(index.partialFilterExpression)
    : undefined;
  const sparse = index.sparse === true;
  return (doc) =>
    (!sparse || fields.some((field) => hasPath(doc, field))) && (!partial || partial(doc));
}

/** The value at a dotted path, or `missing` when the path does not exist. */
function lookup(doc: Document, path: string, missing: unknown): unknown {
  let node: unknown = doc;
  for (const part of path.split('.')) {
    if (!isPlainObject(node) || !(part in node)) return missing;
    node = node[part];
  }
  return node;
}

const MISSING = Symbol('missing');

function hasPath(doc: Document, path: string): boolean {
  return lookup(doc, path, MISSING) !== MISSING;
}

function valueAt(doc: Document, path: string): unknown {
  return lookup(doc, path, null) ?? null;
}

function show(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  if (value instanceof ObjectId) return `ObjectId('${value.toHexString()}')`;
  return JSON.stringify(value) ?? String(value);
}

function duplicateOnIndex(
  ns: { db: string; coll: string },
  name: string,
  fields: string[],
  values: unknown[],
  keyPattern: Document,
): CommandError {
  const keyValue: Document = {};
  fields.forEach((field, i) => (keyValue[field] = values[i]));
  const shown = fields.map((field, i) => `${field}: ${show(values[i])}`).join(', ');
  return new CommandError(
    'DuplicateKey',
    `E11000 duplicate key error collection: ${ns.db}.${ns.coll} index: ${name} dup key: { ${shown} }`,
    {
      extra: { keyPattern, keyValue },
    },
  );
}

/** Fails like an index build does when existing documents already violate a new unique index. */
export function checkExistingForUnique(
  collection: CollectionData,
  ns: { db: string; coll: string },
  index: Document,
): void {
  if (index.unique !== true || !isPlainObject(index.key)) return;
  const fields = Object.keys(index.key);
  const indexed = indexPredicate(index, fields);
  const seen = new Set<string>();
  for (const doc of collection.docs.values()) {
    if (!indexed(doc)) continue;
    const values = fields.map((field) => valueAt(doc, field));
    const key = EJSON.stringify({ v: values } as Document, { relaxed: false });
    if (seen.has(key)) throw duplicateOnIndex(ns, String(index.name), fields, values, index.key);
    seen.add(key);
  }
}
