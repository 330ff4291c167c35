import { Decimal128, Long, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { enumField, typeName } from '../commands/command-args.ts';
import { isPlainObject } from '../storage/bson-values.ts';

/** Commands that wait for write concern after they ran (the rest never take one). */
const WRITE_CONCERN_COMMANDS = new Set([
  'insert',
  'update',
  'delete',
  'findAndModify',
  'commitTransaction',
  'abortTransaction',
  'create',
  'createIndexes',
  'drop',
  'dropIndexes',
  'dropDatabase',
  'renameCollection',
  'collMod',
  // The 8.0 client-level bulkWrite (on admin).
  'bulkWrite',
  // Takes one for its $out/$merge stages.
  'aggregate',
]);

/** Data-bearing members of the emulated replica set. */
const DATA_BEARING_NODES = 1;

/** The server's `ReplSetConfig::kMaxMembers`: no `w` may ask for more. */
const MAX_MEMBERS = 50;

/** The widest `wtimeout` the server accepts (it is stored as an int32). */
const MAX_WTIMEOUT = 2 ** 31 - 1;

/** The `w` of a write concern: a node count, a mode name, or tag counts. */
export type WriteConcernW = number | string | Record<string, number>;

/** A parsed write concern (the server's WriteConcernOptions). */
export interface WriteConcernOptions {
  /** Absent when the client left it to the default. */
  w: WriteConcernW | undefined;
  /** True when the client set anything (the server's "not default-constructed"). */
  specified: boolean;
}

/** Fields of the server's WriteConcernIdl (strict: anything else is 40415). */
const WRITE_CONCERN_FIELDS = new Set([
  'w',
  'j',
  'wtimeout',
  'fsync',
  'wElectionId',
  'wOpTime',
  'getLastError',
  'provenance',
]);

/** The sources a concern's `provenance` may name (ReadWriteConcernProvenanceSource). */
export const PROVENANCE_SOURCES = new Set([
  'clientSupplied',
  'implicitDefault',
  'customDefault',
  'getLastErrorDefaults',
  'internalWriteDefault',
]);

/** The value of any BSON number (int32, int64, double, decimal), or undefined. */
export function numberValue(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value instanceof Long) return value.toNumber();
  if (value instanceof Decimal128) return Number(value.toString());
  return undefined;
}

/** The server's `safeBool` IDL type: a bool or any number; null is absent. */
function safeBool(concern: Document, field: string): boolean | undefined {
  const value: unknown = concern[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  const number = numberValue(value);
  if (number !== undefined) return number !== 0;
  throw new CommandError(
    'TypeMismatch',
    `BSON field 'WriteConcernOptions.${field}' is the wrong type '${typeName(value)}', expected types '[bool, long, int, decimal, double']`,
  );
}

function failedToParse(message: string): CommandError {
  return new CommandError('FailedToParse', message);
}

/** The server's deserializeWriteConcernW. */
function parseW(value: unknown): WriteConcernW | undefined {
  if (value === undefined || value === null) return undefined;
  const number = numberValue(value);
  if (number !== undefined) {
    if (Number.isNaN(number)) throw failedToParse('w cannot be NaN');
    const count = Math.trunc(number);
    if (count < 0 || count > MAX_MEMBERS)
      throw failedToParse(
        `w has to be a non-negative number and not greater than ${MAX_MEMBERS}; found: ${count}`,
      );
    return count;
  }
  if (typeof value === 'string') {
    if (value.includes('\0')) throw failedToParse(`w has illegal embedded NUL byte, w: ${value}`);
    return value;
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) throw failedToParse('tagged write concern requires tags');
    const tags: Record<string, number> = {};
    for (const key of keys) {
      const count = numberValue(value[key]);
      if (count === undefined)
        throw failedToParse(
          `tags must be a single level document with only number values; found: ${key}: ${JSON.stringify(value[key])}`,
        );
      tags[key] = Math.trunc(count);
    }
    return tags;
  }
  throw failedToParse(`w has to be a number, string, or object; found: ${typeName(value)}`);
}

/**
 * Parses a command's `writeConcern` as the server's WriteConcernIdl does,
 * answering its errors: a `w` out of 0..50, NaN or of another type, tags
 * that are not counts (FailedToParse, 9); `j`/`fsync` not a bool or number
 * (TypeMismatch, 14), both true (9); a `wtimeout` beyond int32 (9); an
 * unknown field (40415). A `wtimeout` that is not a number is taken as 0,
 * as the server's parser does. `{}` and an absent concern are the default.
 */
export function parseWriteConcern(commandName: string, command: Document): WriteConcernOptions {
  const concern: unknown = command.writeConcern;
  if (concern === undefined || concern === null) return { w: undefined, specified: false };
  if (!isPlainObject(concern))
    throw new CommandError(
      'TypeMismatch',
      `BSON field '${commandName}.writeConcern' is the wrong type '${typeName(concern)}', expected type 'object'`,
    );
  for (const field of Object.keys(concern))
    if (!WRITE_CONCERN_FIELDS.has(field))
      throw new CommandError(
        'UnknownBsonField',
        `BSON field 'WriteConcernOptions.${field}' is an unknown field.`,
      );
  const w = parseW(concern.w);
  const j = safeBool(concern, 'j');
  const fsync = safeBool(concern, 'fsync');
  const wtimeout = numberValue(concern.wtimeout) ?? 0;
  if (wtimeout > MAX_WTIMEOUT) throw failedToParse('wtimeout must be a 32-bit integer');
  if (j === true && fsync === true)
    throw failedToParse('fsync and j options cannot be used together');
  const provenance: unknown = concern.provenance;
  if (provenance !== undefined && provenance !== null)
    checkProvenance('WriteConcernOptions', provenance);
  const specified =
    w !== undefined || j !== undefined || fsync !== undefined || Math.trunc(wtimeout) !== 0;
  return { w, specified };
}

/** A concern's `provenance`: one of the server's source names. */
export function checkProvenance(context: string, value: unknown): void {
  enumField(`${context}.provenance`, value, PROVENANCE_SOURCES);
}

/**
 * A write concern on a command that takes none is InvalidOptions (72), as
 * the server answers; inside a transaction only commit and abort take one.
 */
export function checkWriteConcernAllowed(
  commandName: string,
  concern: WriteConcernOptions,
  command: Document,
  inTransaction: boolean,
): void {
  const ending = commandName === 'commitTransaction' || commandName === 'abortTransaction';
  if (inTransaction && !ending && concern.specified)
    throw new CommandError(
      'InvalidOptions',
      'writeConcern is not allowed within a multi-statement transaction',
    );
  if (!WRITE_CONCERN_COMMANDS.has(commandName) && isPlainObject(command.writeConcern))
    throw new CommandError('InvalidOptions', 'Command does not support writeConcern');
}

/**
 * The `writeConcernError` the server answers once a command ran, when its
 * write concern cannot be satisfied by this one-node set: `w` above the
 * number of data-bearing members is UnsatisfiableWriteConcern (100), a `w`
 * naming a tag mode the set's configuration lacks is UnknownReplWriteConcern
 * (79), tag counts naming a tag no member has are NoSuchKey (4). The write
 * itself stands, as on the server. `w: 'majority'`, numbers up to one and
 * `j` have nothing to wait for: every write here is majority committed and
 * as durable as it gets.
 */
export function writeConcernErrorFor(
  commandName: string,
  concern: WriteConcernOptions,
): Document | undefined {
  if (!WRITE_CONCERN_COMMANDS.has(commandName)) return undefined;
  const { w } = concern;
  if (typeof w === 'number' && w > DATA_BEARING_NODES)
    return {
      code: 100,
      codeName: 'UnsatisfiableWriteConcern',
      errmsg: 'Not enough data-bearing nodes',
    };
  if (typeof w === 'string' && w !== 'majority')
    return {
      code: 79,
      codeName: 'UnknownReplWriteConcern',
      errmsg: `No write concern mode named '${w}' found in replica set configuration`,
    };
  if (w !== undefined && typeof w === 'object') {
    // The emulated member carries no tags: the first tag named is unknown to the configuration.
    const [tag] = Object.keys(w);
    return { code: 4, codeName: 'NoSuchKey', errmsg: `No replica set tag key ${tag} in config` };
  }
  return undefined;
}
