import { Timestamp, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { parseResumeToken, type ResumePoint } from '../oplog/resume-token.ts';
import { isPlainObject } from '../storage/bson-values.ts';
import { typeName } from '../commands/command-args.ts';

/** Which changes a stream watches. */
export type ChangeStreamScope =
  | { kind: 'collection'; db: string; coll: string }
  | { kind: 'database'; db: string }
  | { kind: 'deployment' };

/** Values of `fullDocument`. */
export type FullDocumentMode = 'default' | 'updateLookup' | 'whenAvailable' | 'required';
/** Values of `fullDocumentBeforeChange`. */
export type PreImageMode = 'off' | 'whenAvailable' | 'required';

/** A parsed `$changeStream` stage. */
export interface ChangeStreamSpec {
  scope: ChangeStreamScope;
  fullDocument: FullDocumentMode;
  fullDocumentBeforeChange: PreImageMode;
  resumeAfter?: ResumePoint;
  startAfter?: ResumePoint;
  startAtOperationTime?: Timestamp;
  /** Report DDL events (create, createIndexes, …) and the fields only they and expanded events carry. */
  showExpandedEvents: boolean;
  /** Stages after `$changeStream`, applied to each event. */
  userStages: Document[];
}

const KNOWN_OPTIONS = new Set([
  'resumeAfter',
  'startAfter',
  'startAtOperationTime',
  'fullDocument',
  'fullDocumentBeforeChange',
  'allChangesForCluster',
  'showMigrationEvents',
  'showExpandedEvents',
  'showSystemEvents',
  'showRawUpdateDescription',
]);

/** Stages the server allows after `$changeStream`. */
const ALLOWED_USER_STAGES = new Set([
  '$match',
  '$project',
  '$addFields',
  '$set',
  '$unset',
  '$replaceRoot',
  '$replaceWith',
  '$redact',
]);

/**
 * Every aggregation stage the server knows (8.0). One of them that a change
 * stream does not allow is refused as not permitted (20); any other name is
 * not a stage at all (40324), as the server tells the two apart.
 */
const KNOWN_STAGES = new Set([
  ...ALLOWED_USER_STAGES,
  '$bucket',
  '$bucketAuto',
  '$changeStream',
  '$changeStreamSplitLargeEvent',
  '$collStats',
  '$count',
  '$currentOp',
  '$densify',
  '$documents',
  '$facet',
  '$fill',
  '$geoNear',
  '$graphLookup',
  '$group',
  '$indexStats',
  '$limit',
  '$listLocalSessions',
  '$listSampledQueries',
  '$listSearchIndexes',
  '$listSessions',
  '$lookup',
  '$merge',
  '$out',
  '$planCacheStats',
  '$querySettings',
  '$queryStats',
  '$sample',
  '$search',
  '$searchMeta',
  '$setWindowFields',
  '$shardedDataDistribution',
  '$skip',
  '$sort',
  '$sortByCount',
  '$unionWith',
  '$unwind',
  '$vectorSearch',
]);

/**
 * An option of the stage as the server's parser reads it: an optional field
 * given as null is absent (what the driver sends for an option a program
 * set to `undefined`).
 */
function option(stage: Document, key: string): unknown {
  const value = stage[key];
  return value === null ? undefined : value;
}

/** Options the server's IDL types as `optionalBool` (a boolean, nothing else). */
const BOOLEAN_OPTIONS = [
  'allChangesForCluster',
  'showMigrationEvents',
  'showExpandedEvents',
  'showSystemEvents',
  'showRawUpdateDescription',
];

function checkBooleans(stage: Document): void {
  for (const key of BOOLEAN_OPTIONS) {
    const value = option(stage, key);
    if (value !== undefined && typeof value !== 'boolean') {
      throw new CommandError(
        'TypeMismatch',
        `Field '${key}' should be a boolean value, but found: ${typeName(value)}`,
      );
    }
  }
}

/**
 * Options the server honours that the emulator does not: refused when set,
 * never accepted and ignored. (`showMigrationEvents` is honoured: a replica
 * set has no chunk migrations to show.)
 */
const UNSUPPORTED_TRUE_OPTIONS = ['showSystemEvents', 'showRawUpdateDescription'];

function notSupported(feature: string): CommandError {
  return new CommandError(
    'IllegalOperation',
    `${feature} is not supported in a change stream by the Tributary MongoDB emulator`,
  );
}

/**
 * Refuses command options of a change-stream aggregate the emulator would
 * otherwise ignore: a collation changes how the user's `$match` compares
 * strings on the server, `let` gives its stages variables, and a `hint`
 * would name an index for a scan the emulator does not make.
 */
export function checkChangeStreamCommand(command: Document): void {
  for (const key of ['collation', 'let', 'hint'])
    if (command[key] !== undefined) throw notSupported(key);
}

function enumValue<T extends string>(
  value: unknown,
  allowed: readonly T[],
  field: string,
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value))
    return value as T;
  throw new CommandError(
    'BadValue',
    `Enumeration value '${String(value)}' for field '$changeStream.${field}' is not a valid value.`,
  );
}

/**
 * Parses an aggregate whose first stage is `$changeStream`, validating it as
 * the server does (scope rules, one resume option, allowed user stages).
 */
export function parseChangeStream(
  db: string,
  aggregate: unknown,
  pipeline: Document[],
): ChangeStreamSpec {
  const stage = pipeline[0]?.$changeStream;
  if (!isPlainObject(stage)) {
    throw new CommandError(
      'TypeMismatch',
      'the $changeStream stage must be specified as an object',
    );
  }
  for (const key of Object.keys(stage)) {
    if (!KNOWN_OPTIONS.has(key))
      throw new CommandError(
        'UnknownBsonField',
        `BSON field '$changeStream.${key}' is an unknown field.`,
      );
  }
  checkBooleans(stage);
  for (const key of UNSUPPORTED_TRUE_OPTIONS)
    if (option(stage, key) === true) throw notSupported(key);
  let scope: ChangeStreamScope;
  if (stage.allChangesForCluster === true) {
    if (db !== 'admin' || aggregate !== 1) {
      throw new CommandError(
        'InvalidNamespace',
        "A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' database, and with no collection name",
      );
    }
    scope = { kind: 'deployment' };
  } else if (aggregate === 1) {
    if (db === 'admin' || db === 'config' || db === 'local') {
      throw new CommandError(
        'InvalidNamespace',
        `$changeStream may not be opened on the internal ${db} database`,
      );
    }
    scope = { kind: 'database', db };
  } else if (typeof aggregate === 'string') {
    if (db === 'admin' || db === 'config' || db === 'local' || aggregate.startsWith('system.')) {
      throw new CommandError(
        'InvalidNamespace',
        `$changeStream may not be opened on the internal ${db}.${aggregate} collection`,
      );
    }
    scope = { kind: 'collection', db, coll: aggregate };
  } else {
    throw new CommandError(
      'FailedToParse',
      "Invalid aggregate: the 'aggregate' field must be a collection name or 1",
    );
  }
  const resumeOptions = ['resumeAfter', 'startAfter', 'startAtOperationTime'].filter(
    (key) => option(stage, key) !== undefined,
  );
  if (resumeOptions.length > 1) {
    throw CommandError.fromCode(
      40674,
      'Only one type of resume option is allowed, but multiple were found.',
    );
  }
  const spec: ChangeStreamSpec = {
    scope,
    fullDocument: enumValue(
      option(stage, 'fullDocument'),
      ['default', 'updateLookup', 'whenAvailable', 'required'] as const,
      'fullDocument',
      'default',
    ),
    fullDocumentBeforeChange: enumValue(
      option(stage, 'fullDocumentBeforeChange'),
      ['off', 'whenAvailable', 'required'] as const,
      'fullDocumentBeforeChange',
      'off',
    ),
    showExpandedEvents: option(stage, 'showExpandedEvents') === true,
    userStages: pipeline.slice(1),
  };
  const resumeAfter = option(stage, 'resumeAfter');
  const startAfter = option(stage, 'startAfter');
  const startAtOperationTime = option(stage, 'startAtOperationTime');
  if (resumeAfter !== undefined) {
    spec.resumeAfter = parseResumeToken(resumeAfter, 'resumeAfter');
    if (spec.resumeAfter.kind === 'invalidate') {
      throw new CommandError(
        'InvalidResumeToken',
        "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification",
      );
    }
  }
  if (startAfter !== undefined) spec.startAfter = parseResumeToken(startAfter, 'startAfter');
  if (startAtOperationTime !== undefined) {
    if (!(startAtOperationTime instanceof Timestamp)) {
      throw new CommandError(
        'TypeMismatch',
        "BSON field '$changeStream.startAtOperationTime' is the wrong type, expected type 'timestamp'",
      );
    }
    spec.startAtOperationTime = startAtOperationTime;
  }
  for (const userStage of spec.userStages) {
    const name = isPlainObject(userStage) ? Object.keys(userStage)[0] : undefined;
    if (name === '$changeStream')
      throw new CommandError(
        'Location40602',
        '$changeStream is only valid as the first stage in a pipeline.',
      );
    if (name && !KNOWN_STAGES.has(name))
      throw new CommandError('Location40324', `Unrecognized pipeline stage name: '${name}'`);
    if (name === '$changeStreamSplitLargeEvent') throw notSupported(name);
    if (!name || !ALLOWED_USER_STAGES.has(name)) {
      throw new CommandError(
        'IllegalOperation',
        `${name ?? 'stage'} is not permitted in a $changeStream pipeline`,
      );
    }
  }
  return spec;
}
