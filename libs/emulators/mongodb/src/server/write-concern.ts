import type { Document } from 'bson';
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
]);

/** Data-bearing members of the emulated replica set. */
const DATA_BEARING_NODES = 1;

/**
 * The `writeConcernError` the server answers once a command ran, when its
 * write concern cannot be satisfied by this one-node set: `w` above the
 * number of data-bearing members is UnsatisfiableWriteConcern (100), a `w`
 * naming a tag mode the set's configuration lacks is UnknownReplWriteConcern
 * (79). The write itself stands, as on the server. `w: 'majority'`, numbers
 * up to one and `j` have nothing to wait for: every write here is majority
 * committed and as durable as it gets.
 */
export function writeConcernErrorFor(commandName: string, command: Document): Document | undefined {
  if (!WRITE_CONCERN_COMMANDS.has(commandName)) return undefined;
  const concern = command.writeConcern;
  if (!isPlainObject(concern)) return undefined;
  const w: unknown = concern.w;
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
  return undefined;
}
