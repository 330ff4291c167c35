import { BSON, type Document } from 'bson';
import { CoreError } from '../errors/core-error.ts';
import { isOrderingKey, type OrderingKey } from './ordering-key.ts';
import { serializeDocument } from './serialize-document.ts';

/** Where claim-checked events wait in the lake, beside Tributary's other state. */
export const CLAIMS_PREFIX = '_tributary/claims';

function partitionDir(partition: number): string {
  return `${CLAIMS_PREFIX}/partition-${String(partition).padStart(4, '0')}`;
}

/**
 * The lake path of the change event with ordering key `key` on `partition`
 * when it travels by claim check. Deterministic: the same event read again
 * after a rewind is staged at the same place.
 */
export function claimPath(partition: number, key: OrderingKey): string {
  return `${partitionDir(partition)}/${key}.bson`;
}

/** Where a dead letter's claim-checked events are kept, beside the queue's dead letters. */
export const DEAD_LETTER_CLAIMS_PREFIX = '_tributary/dead-letters/claims';

/**
 * Where the staged event at claim path `path` is kept once its batch went
 * to the dead letters: the staged copy itself is removed when the
 * checkpoint passes it, and the dead letter carries only the path.
 */
export function deadLetteredClaimPath(path: string): string {
  if (!path.startsWith(`${CLAIMS_PREFIX}/`)) throw new RangeError(`not a claim path: ${path}`);
  return `${DEAD_LETTER_CLAIMS_PREFIX}/${path.slice(CLAIMS_PREFIX.length + 1)}`;
}

/** The directory holding a partition's staged events (for cleaning up). */
export function claimDirectory(partition: number): string {
  return partitionDir(partition);
}

/** The key a claim path was made for, or `undefined` when it is not one of `partition`'s. */
export function keyOfClaimPath(path: string, partition: number): OrderingKey | undefined {
  const prefix = `${partitionDir(partition)}/`;
  if (!path.startsWith(prefix) || !path.endsWith('.bson')) return undefined;
  const key = path.slice(prefix.length, -'.bson'.length);
  return isOrderingKey(key) ? key : undefined;
}

/** True when `path` is a claim path of `partition`. */
export function isClaimPath(path: string, partition: number): boolean {
  return keyOfClaimPath(path, partition) !== undefined;
}

/** What a claim document holds: the change event, BSON types intact. */
export function encodeClaim(event: Document): Uint8Array {
  return serializeDocument(event);
}

/**
 * Reads a staged change event back.
 *
 * @throws CoreError `BATCH_INVALID` when the bytes are not a change event.
 */
export function decodeClaim(bytes: Uint8Array, path: string): Document {
  let event: Document;
  try {
    event = BSON.deserialize(bytes, { promoteBuffers: false });
  } catch (error) {
    throw new CoreError('BATCH_INVALID', `The claim-checked event at ${path} is not BSON.`, {
      cause: error,
    });
  }
  if (typeof event.operationType !== 'string' || typeof event._id !== 'object')
    throw new CoreError(
      'BATCH_INVALID',
      `The claim-checked event at ${path} is not a change event (no operationType or resume token).`,
    );
  return event;
}
