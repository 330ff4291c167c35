import { Timestamp, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { enumField, typeName } from '../commands/command-args.ts';
import { compareTimestamps } from '../oplog/resume-token.ts';
import { isPlainObject } from '../storage/bson-values.ts';
import { checkProvenance } from './write-concern.ts';

/** The server's ReadConcernLevel enumeration. */
export type ReadConcernLevel = 'local' | 'majority' | 'linearizable' | 'available' | 'snapshot';

const LEVELS: ReadonlySet<string> = new Set([
  'local',
  'majority',
  'linearizable',
  'available',
  'snapshot',
]);

/** A parsed read concern (the server's ReadConcernArgs). */
export interface ReadConcernArgs {
  level: ReadConcernLevel | undefined;
  afterClusterTime: Timestamp | undefined;
  atClusterTime: Timestamp | undefined;
  afterOpTime: Timestamp | undefined;
}

const EMPTY: ReadConcernArgs = {
  level: undefined,
  afterClusterTime: undefined,
  atClusterTime: undefined,
  afterOpTime: undefined,
};

/** True when the client asked for nothing (the server's `ReadConcernArgs::isEmpty`). */
export function isEmptyReadConcern(args: ReadConcernArgs): boolean {
  return !args.level && !args.afterClusterTime && !args.atClusterTime && !args.afterOpTime;
}

function invalidOptions(message: string): CommandError {
  return new CommandError('InvalidOptions', message);
}

function wrongType(field: string, value: unknown, expected: string): CommandError {
  return new CommandError(
    'TypeMismatch',
    `BSON field 'readConcern.${field}' is the wrong type '${typeName(value)}', expected type '${expected}'`,
  );
}

/** An IDL `logicalTime` field: a BSON timestamp; null is absent. */
function timestampField(concern: Document, field: string): Timestamp | undefined {
  const value: unknown = concern[field];
  if (value === undefined || value === null) return undefined;
  if (value instanceof Timestamp) return value;
  throw wrongType(field, value, 'timestamp');
}

/** The `ts` of an `afterOpTime` (`{ ts, t }`). */
function opTimeField(concern: Document): Timestamp | undefined {
  const value: unknown = concern.afterOpTime;
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw wrongType('afterOpTime', value, 'object');
  if (!(value.ts instanceof Timestamp))
    throw new CommandError('NoSuchKey', "BSON field 'readConcern.afterOpTime.ts' is missing");
  return value.ts;
}

function levelField(concern: Document): ReadConcernLevel | undefined {
  const value: unknown = concern.level;
  if (value === undefined || value === null) return undefined;
  return enumField<ReadConcernLevel>('readConcern.level', value, LEVELS);
}

const READ_CONCERN_FIELDS = new Set([
  'level',
  'afterOpTime',
  'afterClusterTime',
  'atClusterTime',
  'provenance',
]);

/**
 * Parses a command's `readConcern` as the server's ReadConcernIdl and
 * `ReadConcernArgs::parse` do: an unknown level is BadValue (2), a field of
 * the wrong type TypeMismatch (14), an unknown field 40415, and the
 * combinations the server refuses InvalidOptions (72) — `atClusterTime`
 * without `snapshot`, with `afterClusterTime`, or null; `afterClusterTime`
 * with `available`/`linearizable`, with `afterOpTime`, or null.
 */
export function parseReadConcern(command: Document): ReadConcernArgs {
  const concern: unknown = command.readConcern;
  if (concern === undefined) return EMPTY;
  if (!isPlainObject(concern))
    throw new CommandError('FailedToParse', 'readConcern field should be an object');
  for (const field of Object.keys(concern))
    if (!READ_CONCERN_FIELDS.has(field))
      throw new CommandError(
        'UnknownBsonField',
        `BSON field 'readConcern.${field}' is an unknown field.`,
      );
  if (concern.provenance !== undefined && concern.provenance !== null)
    checkProvenance('readConcern', concern.provenance);
  const args: ReadConcernArgs = {
    level: levelField(concern),
    afterClusterTime: timestampField(concern, 'afterClusterTime'),
    atClusterTime: timestampField(concern, 'atClusterTime'),
    afterOpTime: opTimeField(concern),
  };
  const level = args.level ?? 'local';
  if (args.afterClusterTime && args.afterOpTime)
    throw invalidOptions('Can not specify both afterClusterTime and afterOpTime');
  if (args.afterClusterTime && args.atClusterTime)
    throw invalidOptions(
      'Specifying a timestamp for readConcern snapshot in a causally consistent session is not allowed. See https://docs.mongodb.com/manual/core/read-isolation-consistency-recency/#causal-consistency',
    );
  if (args.afterClusterTime && !['majority', 'local', 'snapshot'].includes(level))
    throw invalidOptions(
      'afterClusterTime field can be set only if level is equal to majority, local, or snapshot',
    );
  if (args.afterOpTime && level === 'snapshot')
    throw invalidOptions('afterOpTime field cannot be set if level is equal to snapshot');
  if (args.atClusterTime && level !== 'snapshot')
    throw invalidOptions('atClusterTime field can be set only if level is equal to snapshot');
  if (args.atClusterTime && args.atClusterTime.high === 0)
    throw invalidOptions('atClusterTime cannot be a null timestamp');
  if (args.afterClusterTime && args.afterClusterTime.isZero())
    throw invalidOptions('afterClusterTime cannot be a null timestamp');
  return args;
}

/** The server's LogicalTime::toString. */
function logicalTime(ts: Timestamp): string {
  return `{ ts: Timestamp(${ts.high >>> 0}, ${ts.low >>> 0}) }`;
}

/** The times a read is checked against: the cluster time, and the last write (if any). */
export interface ReadClock {
  now: Timestamp;
  lastWrite: Timestamp | undefined;
}

/**
 * Waits for a read concern as the server's `waitForReadConcern` does on a
 * primary, and answers the time a snapshot read is served at. A time past
 * the cluster time is InvalidOptions (72); one not past it is already
 * satisfied (every write here is applied and majority committed). A
 * snapshot at a given `atClusterTime` is served only when no write came
 * after it — the emulator keeps no history — otherwise SnapshotTooOld (239).
 */
export function waitForReadConcern(args: ReadConcernArgs, clock: ReadClock): Timestamp | undefined {
  const target = args.afterClusterTime ?? args.atClusterTime ?? args.afterOpTime;
  if (target && compareTimestamps(target, clock.now) > 0) {
    const name = args.afterClusterTime
      ? 'afterClusterTime'
      : args.atClusterTime
        ? 'atClusterTime'
        : 'afterOpTime';
    throw invalidOptions(
      `readConcern ${name} value must not be greater than the current clusterTime. Requested clusterTime: ${logicalTime(target)}; current clusterTime: ${logicalTime(clock.now)}`,
    );
  }
  if (args.level !== 'snapshot') return undefined;
  const at = args.atClusterTime;
  if (!at) return clock.lastWrite ?? clock.now;
  if (clock.lastWrite && compareTimestamps(at, clock.lastWrite) < 0)
    throw new CommandError(
      'SnapshotTooOld',
      `Read timestamp Timestamp(${at.high >>> 0}, ${at.low >>> 0}) is older than the oldest available timestamp. The emulator keeps no snapshot history: it reads at or after its last write, Timestamp(${clock.lastWrite.high >>> 0}, ${clock.lastWrite.low >>> 0}).`,
    );
  return at;
}

/** The commands that may read at `snapshot` outside a transaction (MongoDB 5.0+). */
const SNAPSHOT_READ_COMMANDS = new Set(['find', 'aggregate', 'distinct']);

/**
 * Outside a transaction, only find, aggregate and distinct read at
 * `snapshot`; the server refuses it on other commands (InvalidOptions, 72)
 * rather than read at another level.
 */
export function checkSnapshotOutsideTransaction(commandName: string, args: ReadConcernArgs): void {
  if (args.level === 'snapshot' && !SNAPSHOT_READ_COMMANDS.has(commandName))
    throw invalidOptions(
      `Command ${commandName} does not support { readConcern: { level: "snapshot" } }`,
    );
}

/**
 * The read-concern rules of a transaction, as the server checks them:
 * only its first statement may carry a readConcern, whose level must be
 * local, majority or snapshot (InvalidOptions, 72, otherwise).
 */
export function checkReadConcernInTransaction(args: ReadConcernArgs, starting: boolean): void {
  if (!starting) {
    if (!isEmptyReadConcern(args))
      throw invalidOptions('Only the first command in a transaction may specify a readConcern');
    return;
  }
  if (args.level && !['local', 'majority', 'snapshot'].includes(args.level))
    throw invalidOptions(
      'The first command in a transaction cannot specify a readConcern level other than local, majority, or snapshot',
    );
}
