import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';

/**
 * find options whose behaviour the emulator does not have: each is refused,
 * naming it, rather than taken and ignored. (`allowDiskUse`, `readOnce`,
 * `allowPartialResults` and `oplogReplay` change nothing on one node
 * holding everything in memory, so they are taken.)
 */
const UNSUPPORTED_FIND_OPTIONS = ['min', 'max', 'returnKey', 'showRecordId'];

/**
 * Checks a find's cursor and index options. Every collection the emulator
 * creates is uncapped, so a tailable cursor gets the server's answer for an
 * uncapped collection; the oplog, capped on the server, is not tailable here.
 */
export function checkFindOptions(command: Document, oplog: boolean): void {
  for (const option of UNSUPPORTED_FIND_OPTIONS) {
    const value: unknown = command[option];
    if (value !== undefined && value !== false)
      throw new CommandError(
        'InvalidOptions',
        `find option not supported by the Tributary MongoDB emulator: ${option}`,
      );
  }
  const tailable = command.tailable === true;
  if (command.awaitData === true && !tailable)
    throw new CommandError(
      'FailedToParse',
      "Cannot set 'awaitData' without also setting 'tailable'",
    );
  if (!tailable) return;
  if (oplog)
    throw new CommandError(
      'InvalidOptions',
      'find option not supported by the Tributary MongoDB emulator: tailable (on local.oplog.rs)',
    );
  throw new CommandError('BadValue', 'tailable cursor requested on non capped collection');
}
