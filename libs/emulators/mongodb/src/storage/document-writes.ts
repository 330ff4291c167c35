import { ObjectId, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { describeUpdate, wholeValuePaths } from '../oplog/update-description.ts';
import {
  applyModifiers,
  compileMatcher,
  findDocuments,
  runPipeline,
} from '../query/query-engine.ts';
import { bsonEquals, cloneDocument, idKey, isPlainObject } from './bson-values.ts';
import type { CollectionData } from './collection-data.ts';
import { checkInsertSize, checkUpdatedSize, checkUpsertSize } from './document-size-limits.ts';
import { applyModifierKinds, carryKinds, copyKind } from './numeric-types.ts';
import { checkUniqueIndexes } from './unique-indexes.ts';
import { validateIdForInsert, validateIdForUpdate } from './id-validation.ts';
import { checkHint } from './index-hint.ts';
import type { Collation } from '../query/collation.ts';
import { refuseViewWrite } from './views.ts';
import { checkValidation } from './document-validation.ts';
import type { WriteScope } from './write-scope.ts';

/** A namespace: database and collection. */
export interface Namespace {
  db: string;
  coll: string;
}

/** The server's E11000 error for a duplicate `_id`. */
export function duplicateKeyError(ns: Namespace, id: unknown): CommandError {
  const shown =
    typeof id === 'string'
      ? `"${id}"`
      : id instanceof ObjectId
        ? `ObjectId('${id.toHexString()}')`
        : String(id);
  return new CommandError(
    'DuplicateKey',
    `E11000 duplicate key error collection: ${ns.db}.${ns.coll} index: _id_ dup key: { _id: ${shown} }`,
    { extra: { keyPattern: { _id: 1 }, keyValue: { _id: id } } },
  );
}

function withIdFirst(doc: Document, id: unknown): Document {
  const out: Document = { _id: id };
  for (const key of Object.keys(doc)) if (key !== '_id') out[key] = doc[key];
  carryKinds(doc, out);
  return out;
}

/** `{ _id }` of a document, keeping the _id's numeric type. */
function documentKeyOf(doc: Document): Document {
  const key = { _id: doc._id };
  copyKind(doc, '_id', key, '_id');
  return key;
}

/** Inserts one document; `_id` is generated first when missing, as the server does. */
export function insertDocument(
  scope: WriteScope,
  ns: Namespace,
  input: Document,
  bypassValidation = false,
): Document {
  if (!isPlainObject(input))
    throw new CommandError('TypeMismatch', 'insert documents must be objects');
  checkInsertSize(input);
  const doc =
    '_id' in input
      ? Object.keys(input)[0] === '_id'
        ? input
        : withIdFirst(input, input._id)
      : withIdFirst(input, new ObjectId());
  validateIdForInsert(doc);
  refuseViewWrite(scope.read(ns.db, ns.coll), ns);
  scope.claim(ns.db, ns.coll, [doc._id]);
  const collection = scope.write(ns.db, ns.coll);
  checkValidation(collection.options.validation, ns, doc, undefined, bypassValidation);
  const key = idKey(doc._id);
  if (collection.docs.has(key)) throw duplicateKeyError(ns, doc._id);
  if (collection.indexes.length > 0) checkUniqueIndexes(collection, ns, doc);
  collection.docs.set(key, doc);
  scope.record({
    op: 'insert',
    ns,
    collectionUUID: collection.uuid,
    documentKey: documentKeyOf(doc),
    postImage: doc,
    imagesRecorded: collection.options.changeStreamPreAndPostImages,
  });
  return doc;
}

/** One statement of an `update` command (or the update half of findAndModify). */
export interface UpdateStatement {
  q: Document;
  u: Document | Document[];
  upsert?: boolean;
  multi?: boolean;
  arrayFilters?: Document[];
  sort?: Document;
  /** The command's `let` variables, for `$expr` in `q` and pipeline updates. */
  variables?: Document | undefined;
  /** The statement's `c`: constants a pipeline update reads as `$$name`, beside `variables`. */
  constants?: Document | undefined;
  /** An index the statement must use (checked to exist; see index-hint.ts). */
  hint?: unknown;
  /** The command's `bypassDocumentValidation`. */
  bypassValidation?: boolean | undefined;
  /** The statement's non-simple collation, for matching and `sort`. */
  collation?: Collation | undefined;
}

/** Outcome of one update statement. */
export interface UpdateOutcome {
  matched: number;
  modified: number;
  upsertedId?: unknown;
  /** The documents before and after, for findAndModify (first match only). */
  before?: Document;
  after?: Document;
}

type UpdateKind = 'modifiers' | 'pipeline' | 'replacement';

function kindOf(u: unknown): UpdateKind {
  if (Array.isArray(u)) return 'pipeline';
  if (!isPlainObject(u))
    throw new CommandError('FailedToParse', 'Update argument must be either an object or an array');
  const keys = Object.keys(u);
  const dollar = keys.filter((key) => key.startsWith('$'));
  if (dollar.length === 0) return 'replacement';
  if (dollar.length !== keys.length) {
    const plain = keys.find((key) => !key.startsWith('$'));
    throw new CommandError(
      'FailedToParse',
      `Unknown modifier: ${plain}. Expected a valid update modifier or pipeline-style update specified as an array`,
    );
  }
  return 'modifiers';
}

/** Applies `u` to a copy of `doc` and returns the new document. */
function computeUpdated(
  doc: Document,
  statement: UpdateStatement,
  kind: UpdateKind,
  isInsert: boolean,
): Document {
  if (kind === 'replacement') {
    const replacement = statement.u as Document;
    if ('_id' in replacement && !bsonEquals(replacement._id, doc._id) && !isInsert) {
      throw new CommandError(
        'ImmutableField',
        `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${String(replacement._id)}`,
      );
    }
    return withIdFirst(replacement, '_id' in replacement && isInsert ? replacement._id : doc._id);
  }
  if (kind === 'pipeline') {
    const [result] = runPipeline([doc], statement.u as Document[], {
      variables: { ...statement.variables, ...statement.constants },
    });
    if (!result) throw new CommandError('FailedToParse', 'pipeline update removed the document');
    // A result without _id (a $replaceWith of a sub-document) keeps the
    // document's own, as the server does; only a different _id is a change.
    if (!('_id' in result)) return '_id' in doc ? withIdFirst(result, doc._id) : result;
    if (!isInsert && !bsonEquals(result._id, doc._id)) {
      throw new CommandError(
        'ImmutableField',
        "Performing an update on the path '_id' would modify the immutable field '_id'",
      );
    }
    return withIdFirst(result, result._id);
  }
  const copy = cloneDocument(doc);
  applyModifiers(
    copy,
    statement.u as Document,
    statement.arrayFilters,
    positionalFilter(statement),
    isInsert,
  );
  applyModifierKinds(copy, statement.u as Document, isInsert);
  if (!isInsert && !bsonEquals(copy._id, doc._id)) {
    throw new CommandError(
      'ImmutableField',
      "Performing an update on the path '_id' would modify the immutable field '_id'",
    );
  }
  return copy;
}

/**
 * The filter mingo resolves the positional `$` operator with (it applies
 * an update only to a document the filter matches, binary): none under a
 * collation, where the filter matched folded strings — and so a positional
 * update there is refused rather than resolved binary.
 */
function positionalFilter(statement: UpdateStatement): Document | undefined {
  if (!statement.collation) return statement.q;
  const positional = Object.values(statement.u as Document).some(
    (spec) => isPlainObject(spec) && Object.keys(spec).some((path) => /(^|\.)\$(\.|$)/.test(path)),
  );
  if (positional)
    throw new CommandError(
      'BadValue',
      'the positional $ operator under a non-simple collation is not supported by the Tributary MongoDB emulator',
    );
  return undefined;
}

/** The document an upsert starts from: the filter's equality fields (see "Upsert Behavior"). */
function seedFromFilter(filter: Document): Document {
  const seed: Document = {};
  for (const [key, value] of Object.entries(filter)) {
    if (key.startsWith('$')) {
      if (key === '$and' && Array.isArray(value))
        for (const part of value) Object.assign(seed, seedFromFilter(part as Document));
      continue;
    }
    if (isPlainObject(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === '$eq') setPath(seed, key, value.$eq);
      else if (keys.length > 0 && keys.every((k) => !k.startsWith('$'))) setPath(seed, key, value);
      continue;
    }
    if (!(value instanceof RegExp)) setPath(seed, key, value);
  }
  return seed;
}

function setPath(target: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Document;
  }
  node[parts[parts.length - 1] as string] = cloneDocument(value);
}

function recordUpdate(
  scope: WriteScope,
  ns: Namespace,
  collection: CollectionData,
  before: Document,
  after: Document,
  statement: UpdateStatement,
  kind: UpdateKind,
): void {
  const images = collection.options.changeStreamPreAndPostImages;
  const base = {
    ns,
    collectionUUID: collection.uuid,
    documentKey: documentKeyOf(after),
    postImage: after,
    imagesRecorded: images,
    ...(images ? { preImage: before } : {}),
  };
  if (kind === 'replacement') {
    scope.record({ op: 'replace', ...base });
  } else {
    const whole =
      kind === 'modifiers' ? wholeValuePaths(statement.u as Document) : new Set<string>();
    scope.record({
      op: 'update',
      ...base,
      ...describeUpdate(before, after, whole),
    });
  }
}

/** Runs one update statement with the server's semantics (multi, upsert, no-op detection). */
export function updateDocuments(
  scope: WriteScope,
  ns: Namespace,
  statement: UpdateStatement,
): UpdateOutcome {
  const kind = kindOf(statement.u);
  if (kind === 'replacement' && statement.multi) {
    throw new CommandError(
      'FailedToParse',
      'multi update is not supported for replacement-style update',
    );
  }
  const existing = scope.read(ns.db, ns.coll);
  refuseViewWrite(existing, ns);
  checkHint(existing, statement.hint);
  let targets: Document[] = [];
  if (existing) {
    targets =
      statement.sort && Object.keys(statement.sort).length > 0
        ? findDocuments(existing.candidates(statement.q, Boolean(statement.collation)), {
            filter: statement.q,
            sort: statement.sort,
            limit: statement.multi ? 0 : 1,
            variables: statement.variables,
            collation: statement.collation,
          })
        : findDocuments(existing.candidates(statement.q, Boolean(statement.collation)), {
            filter: statement.q,
            limit: statement.multi ? 0 : 1,
            variables: statement.variables,
            collation: statement.collation,
          });
  } else {
    compileMatcher(statement.q, statement.variables, statement.collation);
  }
  if (targets.length === 0) {
    if (!statement.upsert) return { matched: 0, modified: 0 };
    const seed = seedFromFilter(statement.q);
    const inserted = computeUpdated(seed, statement, kind, true);
    const doc =
      '_id' in inserted
        ? withIdFirst(inserted, inserted._id)
        : withIdFirst(inserted, new ObjectId());
    checkUpsertSize(doc);
    validateIdForUpdate(doc);
    insertDocument(scope, ns, doc, statement.bypassValidation);
    return { matched: 0, modified: 0, upsertedId: doc._id, after: doc };
  }
  const outcome: UpdateOutcome = { matched: 0, modified: 0 };
  // Every new document is computed before any is written, so the claim (which may make the
  // statement wait and run again) comes before any change; a document that fails still leaves
  // the ones before it updated, as on the server.
  const changes: Array<{ before: Document; after: Document }> = [];
  let failure: unknown;
  for (const before of targets) {
    let after: Document;
    try {
      after = computeUpdated(before, statement, kind, false);
      validateIdForUpdate(after);
    } catch (error) {
      failure = error;
      break;
    }
    outcome.matched += 1;
    if (outcome.before === undefined) {
      outcome.before = before;
      outcome.after = after;
    }
    // An update that changes nothing writes nothing and emits no event, like the server.
    if (!bsonEquals(before, after)) changes.push({ before, after });
  }
  scope.claim(
    ns.db,
    ns.coll,
    changes.map(({ after }) => after._id),
  );
  const collection = scope.write(ns.db, ns.coll);
  for (const { before, after } of changes) {
    checkUpdatedSize(after);
    checkValidation(
      collection.options.validation,
      ns,
      after,
      before,
      statement.bypassValidation ?? false,
    );
    if (collection.indexes.length > 0) checkUniqueIndexes(collection, ns, after);
    collection.docs.set(idKey(after._id), after);
    outcome.modified += 1;
    recordUpdate(scope, ns, collection, before, after, statement, kind);
  }
  if (failure !== undefined) throw failure;
  return outcome;
}

/** Deletes the first (`limit` 1) or all matching documents; returns the deleted documents. */
export function deleteDocuments(
  scope: WriteScope,
  ns: Namespace,
  filter: Document,
  limit: number,
  options: {
    sort?: Document | undefined;
    variables?: Document | undefined;
    hint?: unknown;
    collation?: Collation | undefined;
  } = {},
): Document[] {
  const existing = scope.read(ns.db, ns.coll);
  refuseViewWrite(existing, ns);
  checkHint(existing, options.hint);
  if (!existing) {
    compileMatcher(filter, options.variables, options.collation);
    return [];
  }
  const targets = findDocuments(existing.candidates(filter, Boolean(options.collation)), {
    filter,
    limit,
    ...(options.sort ? { sort: options.sort } : {}),
    variables: options.variables,
    collation: options.collation,
  });
  if (targets.length === 0) return [];
  scope.claim(
    ns.db,
    ns.coll,
    targets.map((doc) => doc._id),
  );
  const collection = scope.write(ns.db, ns.coll);
  for (const doc of targets) {
    collection.docs.delete(idKey(doc._id));
    const images = collection.options.changeStreamPreAndPostImages;
    scope.record({
      op: 'delete',
      ns,
      collectionUUID: collection.uuid,
      documentKey: documentKeyOf(doc),
      imagesRecorded: images,
      ...(images ? { preImage: doc } : {}),
    });
  }
  return targets;
}
