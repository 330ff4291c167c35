import type { Document } from 'bson';
import { Aggregator, Query, update as mingoUpdate } from 'mingo';
import { CommandError, isCommandError } from '../errors/command-error.ts';
import { isPlainObject } from '../storage/bson-values.ts';
import { foldStrings, type Collation } from './collation.ts';
import { jsonSchemaPredicate } from './json-schema.ts';

/**
 * The query, projection, aggregation and update language, delegated to mingo
 * (a maintained implementation of MongoDB's operators). This file only
 * translates mingo's errors into the server's codes and messages, at the edge.
 */

const MINGO_OPTIONS = { idKey: '_id', jsonSchemaValidator: jsonSchemaPredicate };

/** mingo's options, with a command's `let` variables when it has some. */
function mingoOptions(
  variables: Document | undefined,
): typeof MINGO_OPTIONS & { variables?: Document } {
  return variables ? { ...MINGO_OPTIONS, variables } : MINGO_OPTIONS;
}

/** Translates a mingo failure into the server error a client would get. */
export function translateQueryError(
  error: unknown,
  context: 'query' | 'update' | 'pipeline',
): CommandError {
  if (isCommandError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const stage = /unregistered pipeline operator (\$\w+)/.exec(message);
  if (stage)
    return new CommandError('Location40324', `Unrecognized pipeline stage name: '${stage[1]}'`);
  const queryOperator = /unknown query operator (\$\w+)/.exec(message);
  if (queryOperator) return new CommandError('BadValue', `unknown operator: ${queryOperator[1]}`);
  const expression =
    /'(\$\w+)' is not registered|operator '?(\$\w+)'? is not registered|unregistered .*?(\$\w+)/.exec(
      message,
    );
  if (expression) {
    const name = expression[1] ?? expression[2] ?? expression[3];
    return new CommandError('InvalidPipelineOperator', `Unrecognized expression '${name}'`);
  }
  if (context === 'update') return new CommandError('BadValue', message);
  if (context === 'pipeline') return new CommandError('FailedToParse', message);
  return new CommandError('BadValue', message);
}

/** A compiled filter; throws the server's error for invalid filters at compile time. */
export function compileFilter(filter: unknown, variables?: Document): (doc: Document) => boolean {
  if (filter === undefined || filter === null) return () => true;
  if (!isPlainObject(filter))
    throw new CommandError(
      'TypeMismatch',
      "BSON field 'filter' is the wrong type, expected type 'object'",
    );
  if (Object.keys(filter).length === 0) return () => true;
  let query: Query;
  try {
    query = new Query(filter, mingoOptions(variables));
  } catch (error) {
    throw translateQueryError(error, 'query');
  }
  return (doc) => {
    try {
      return query.test(doc);
    } catch (error) {
      throw translateQueryError(error, 'query');
    }
  };
}

/** Options of a find-like read. */
export interface FindSpec {
  filter?: Document;
  sort?: Document;
  projection?: Document;
  skip?: number;
  limit?: number;
  /** The command's `let` variables, for `$$name` in `$expr`. */
  variables?: Document | undefined;
  /** A non-simple collation (collation.ts), for matching and sorting strings. */
  collation?: Collation | undefined;
}

/**
 * The filter as a predicate. Under a collation, strings are compared
 * folded (collation.ts); a regular expression, which the server never
 * collates, would then see folded strings, so it is refused there.
 */
export function compileMatcher(
  filter: Document | undefined,
  variables: Document | undefined,
  collation: Collation | undefined,
): (doc: Document) => boolean {
  if (!collation) return compileFilter(filter, variables);
  if (containsRegex(filter))
    throw new CommandError(
      'BadValue',
      'a regular expression in a filter under a non-simple collation is not supported by the Tributary MongoDB emulator',
    );
  const matches = compileFilter(
    foldStrings(filter, collation),
    variables && (foldStrings(variables, collation) as Document),
  );
  return (doc) => matches(foldStrings(doc, collation) as Document);
}

function containsRegex(value: unknown): boolean {
  if (value instanceof RegExp || (value as { _bsontype?: string })?._bsontype === 'BSONRegExp')
    return true;
  if (Array.isArray(value)) return value.some(containsRegex);
  if (!isPlainObject(value)) return false;
  return Object.entries(value).some(([key, v]) => key === '$regex' || containsRegex(v));
}

/** Runs a find over `docs` (natural order unless sorted). */
export function findDocuments(docs: Document[], spec: FindSpec): Document[] {
  try {
    const hasProjection = spec.projection && Object.keys(spec.projection).length > 0;
    const hasSort = spec.sort && Object.keys(spec.sort).length > 0;
    if (spec.collation) {
      // mingo matches binary: filter here, then let it sort under the collation.
      const matches = compileMatcher(spec.filter, spec.variables, spec.collation);
      const matched = docs.filter((doc) => matches(doc));
      if (!hasProjection && !hasSort && !spec.skip && !spec.limit) return matched;
      const query = new Query({}, { ...MINGO_OPTIONS, collation: spec.collation.spec });
      let cursor = query.find<Document>(matched, hasProjection ? spec.projection : undefined);
      if (hasSort) cursor = cursor.sort(spec.sort as Record<string, 1 | -1>);
      if (spec.skip) cursor = cursor.skip(spec.skip);
      if (spec.limit && spec.limit > 0) cursor = cursor.limit(spec.limit);
      return cursor.all();
    }
    if (!hasProjection && !hasSort) {
      // Fast path: no copy, no mingo cursor; stored documents are never mutated.
      const matches = compileFilter(spec.filter, spec.variables);
      const out: Document[] = [];
      let skip = spec.skip ?? 0;
      const limit = spec.limit && spec.limit > 0 ? spec.limit : Infinity;
      for (const doc of docs) {
        if (!matches(doc)) continue;
        if (skip > 0) {
          skip -= 1;
          continue;
        }
        out.push(doc);
        if (out.length >= limit) break;
      }
      return out;
    }
    const query = new Query(spec.filter ?? {}, mingoOptions(spec.variables));
    let cursor = query.find<Document>(docs, hasProjection ? spec.projection : undefined);
    if (hasSort) cursor = cursor.sort(spec.sort as Record<string, 1 | -1>);
    if (spec.skip) cursor = cursor.skip(spec.skip);
    if (spec.limit && spec.limit > 0) cursor = cursor.limit(spec.limit);
    return cursor.all();
  } catch (error) {
    throw translateQueryError(error, 'query');
  }
}

/** What a pipeline may read besides its input: other collections, `let` variables. */
export interface PipelineOptions {
  /** The documents of another collection of the database ($lookup, $unionWith). */
  resolve?: ((name: string) => Document[]) | undefined;
  variables?: Document | undefined;
  /** A non-simple collation: mingo honours it in `$sort` (see collated-pipeline.ts). */
  collation?: Collation | undefined;
}

/** Runs an ordinary aggregation pipeline. */
export function runPipeline(
  docs: Document[],
  pipeline: Document[],
  options: PipelineOptions = {},
): Document[] {
  try {
    const aggregator = new Aggregator(pipeline, {
      ...mingoOptions(options.variables),
      ...(options.resolve ? { collectionResolver: options.resolve } : {}),
      ...(options.collation ? { collation: options.collation.spec } : {}),
    });
    return aggregator.run(docs) as Document[];
  } catch (error) {
    throw translateQueryError(error, 'pipeline');
  }
}

/** The update modifiers the server accepts ($setOnInsert is handled by the caller). */
export const UPDATE_MODIFIERS = new Set([
  '$addToSet',
  '$bit',
  '$currentDate',
  '$inc',
  '$max',
  '$min',
  '$mul',
  '$pop',
  '$pull',
  '$pullAll',
  '$push',
  '$rename',
  '$set',
  '$setOnInsert',
  '$unset',
]);

/**
 * Applies operator-style `update` to `doc` in place (the caller passes a copy).
 * `filter` resolves the positional `$` operator.
 */
export function applyModifiers(
  doc: Document,
  update: Document,
  arrayFilters: Document[] | undefined,
  filter: Document | undefined,
  isInsert: boolean,
): void {
  const modifiers: Document = {};
  for (const [name, spec] of Object.entries(update)) {
    if (!UPDATE_MODIFIERS.has(name)) {
      throw new CommandError(
        'FailedToParse',
        `Unknown modifier: ${name}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
    if (!isPlainObject(spec)) {
      throw new CommandError(
        'FailedToParse',
        `Modifiers operate on fields but we found type ${typeof spec} instead. For example: {$mod: {<field>: ...}} not {${name}: ${String(spec)}}`,
      );
    }
    if (name === '$setOnInsert') {
      // Only an upsert that inserts applies $setOnInsert, as if it were $set.
      if (isInsert) modifiers.$set = { ...(modifiers.$set as Document | undefined), ...spec };
      continue;
    }
    modifiers[name] =
      name === '$set' ? { ...(modifiers.$set as Document | undefined), ...spec } : spec;
  }
  for (const [name, spec] of Object.entries(modifiers)) {
    if (Object.keys(spec as Document).some((path) => path === '_id' || path.startsWith('_id.'))) {
      if (!(isInsert && name === '$set')) {
        throw new CommandError(
          'ImmutableField',
          "Performing an update on the path '_id' would modify the immutable field '_id'",
        );
      }
    }
  }
  const set = modifiers.$set as Document | undefined;
  if (isInsert && set && '_id' in set) {
    // mingo treats _id as immutable even for the document an upsert inserts;
    // the server lets that document take its _id from $set / $setOnInsert.
    const { _id: id, ...rest } = set;
    doc._id = id;
    modifiers.$set = rest;
    if (Object.keys(rest).length === 0) delete modifiers.$set;
  }
  try {
    mingoUpdate(doc, modifiers, arrayFilters, filter, {
      cloneMode: 'none',
      queryOptions: MINGO_OPTIONS,
    });
  } catch (error) {
    throw translateQueryError(error, 'update');
  }
}
