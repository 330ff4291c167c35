import { BSON, type Document } from 'bson';
import { CoreError } from '../errors/core-error.ts';
import { isOrderingKey, type OrderingKey } from './ordering-key.ts';

/** The format version written by this release; readers refuse others. */
export const BATCH_FORMAT_VERSION = 1;

/** One change event as capture read it. */
export interface CapturedEvent {
  /** Total-order key (see {@link OrderingKey}). */
  readonly key: OrderingKey;
  /** When capture read the event. */
  readonly capturedAt: Date;
  /** The raw change event, BSON types intact; its `_id` is the resume token. */
  readonly event: Document;
}

/**
 * Where a partition stands once a batch is written: the last key it covers
 * and the resume token to restart the change stream from. For an event
 * batch, its last event; for a heartbeat, capture's position in the stream.
 */
export interface StreamPosition {
  readonly key: OrderingKey;
  readonly token: Document;
}

/**
 * What travels on the queue: events of one partition, in change-stream
 * order, or none at all for a heartbeat that only advances the partition.
 */
export interface ChangeBatch {
  readonly partition: number;
  readonly events: readonly CapturedEvent[];
  readonly position: StreamPosition;
  /**
   * The position key of the batch capture sent before this one on the same
   * partition (after a restart: the partition's checkpoint key as capture
   * read it; '' when it had none). A writer whose checkpoint is behind it
   * knows batches went missing from the queue and must not skip over them.
   */
  readonly previousKey: OrderingKey | '';
}

/** True for a batch that carries no events and only moves the partition forward. */
export function isHeartbeat(batch: ChangeBatch): boolean {
  return batch.events.length === 0;
}

/**
 * Encodes a batch as BSON, so every BSON type of the events survives the
 * queue exactly (JSON would not keep Decimal128, Long or binary subtypes).
 */
export function encodeBatch(batch: ChangeBatch): Uint8Array {
  const doc = {
    v: BATCH_FORMAT_VERSION,
    p: batch.partition,
    pos: { k: batch.position.key, t: batch.position.token },
    prev: batch.previousKey,
    ev: batch.events.map((e) => ({ k: e.key, at: e.capturedAt, e: e.event })),
  };
  try {
    return BSON.serialize(doc);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    // BSON.serialize stages into a ~17 MB buffer; a batch can be larger when
    // events carry big pre- and post-images. Grow the buffer (once) and retry.
    BSON.setInternalBufferSize(BSON.calculateObjectSize(doc));
    return BSON.serialize(doc);
  }
}

function invalid(reason: string): CoreError {
  return new CoreError(
    'BATCH_INVALID',
    `Undecodable change batch: ${reason}. It cannot be retried; send it to the dead-letter set.`,
  );
}

const isObject = (v: unknown): v is Document =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Decodes and validates a batch for a writer that expects `partitionCount`
 * partitions.
 *
 * @throws CoreError `BATCH_INVALID` (not retryable: a poison message) naming what is wrong.
 */
export function decodeBatch(bytes: Uint8Array, partitionCount: number): ChangeBatch {
  let doc: Document;
  try {
    doc = BSON.deserialize(bytes, { promoteBuffers: false });
  } catch (error) {
    throw new CoreError(
      'BATCH_INVALID',
      `Undecodable change batch: not BSON (${(error as Error).message}). It cannot be retried; send it to the dead-letter set.`,
      { cause: error },
    );
  }
  if (doc.v !== BATCH_FORMAT_VERSION)
    throw invalid(`format version ${String(doc.v)}, expected ${BATCH_FORMAT_VERSION}`);
  const partition = doc.p;
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
    throw invalid(`partition ${String(partition)} is outside 0…${partitionCount - 1}`);
  }
  if (!isObject(doc.pos) || !isOrderingKey(doc.pos.k) || !isObject(doc.pos.t)) {
    throw invalid('position lacks a valid key and resume token');
  }
  if (doc.prev !== '' && !isOrderingKey(doc.prev))
    throw invalid('previous key is not an ordering key');
  if (doc.prev !== '' && doc.prev > doc.pos.k) throw invalid('previous key is after the position');
  if (!Array.isArray(doc.ev)) throw invalid('events is not an array');
  const events: CapturedEvent[] = [];
  let previous = '';
  for (const [index, raw] of (doc.ev as unknown[]).entries()) {
    if (!isObject(raw) || !isOrderingKey(raw.k) || !(raw.at instanceof Date) || !isObject(raw.e)) {
      throw invalid(`event ${index} lacks a key, a capture time or the change event`);
    }
    if (typeof raw.e.operationType !== 'string' || !isObject(raw.e._id)) {
      throw invalid(`event ${index} is not a change event (no operationType or resume token)`);
    }
    if (raw.k <= previous)
      throw invalid(`event ${index} is out of order (${raw.k} after ${previous})`);
    previous = raw.k;
    events.push({ key: raw.k, capturedAt: raw.at, event: raw.e });
  }
  if (previous !== '' && doc.pos.k < previous) throw invalid('position is behind the last event');
  return {
    partition,
    events,
    position: { key: doc.pos.k, token: doc.pos.t },
    previousKey: doc.prev,
  };
}
