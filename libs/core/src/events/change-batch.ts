import { BSON, type Document } from 'bson';
import { CoreError } from '../errors/core-error.ts';
import { isClaimPath } from './claim-check.ts';
import { isOrderingKey, type OrderingKey } from './ordering-key.ts';
import { serializeDocument } from './serialize-document.ts';

/**
 * The format version written by this release. Version 1 (no generation or
 * sequence, no claim checks) is still read, so batches queued by the
 * previous release are written after an upgrade.
 */
export const BATCH_FORMAT_VERSION = 2;
const READABLE_VERSIONS = new Set([1, BATCH_FORMAT_VERSION]);

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
 * An event too large for one message: its change event travels by claim
 * check, staged in the lake at `claim` (see `claimPath`), and the batch
 * carries only the reference. The writer reads it back before writing.
 */
export interface ClaimedEvent {
  readonly key: OrderingKey;
  readonly capturedAt: Date;
  /** Lake path of the staged change event (BSON). */
  readonly claim: string;
  /** Encoded size of the staged change event: what it takes in memory once read back. */
  readonly bytes: number;
}

/** What a batch carries per event: the event itself, or a claim check for it. */
export type BatchEntry = CapturedEvent | ClaimedEvent;

/** True for an entry whose change event waits in the lake. */
export function isClaimed(entry: BatchEntry): entry is ClaimedEvent {
  return 'claim' in entry;
}

/**
 * Where a partition stands once a batch is written: the last key it covers
 * and the resume token to restart the change stream from. For an event
 * batch, its last event; for a heartbeat, capture's position in the stream
 * (which may be the stream's postBatchResumeToken, past the last event,
 * under the last event's key).
 */
export interface StreamPosition {
  readonly key: OrderingKey;
  readonly token: Document;
}

/**
 * What travels on the queue: events of one partition, in change-stream
 * order, or none at all for a heartbeat that only advances the partition.
 */
export interface ChangeBatch<Entry extends BatchEntry = BatchEntry> {
  readonly partition: number;
  /**
   * Capture's rewind generation of the partition: it grows each time capture
   * re-reads the partition from its checkpoint, so a re-sent batch is never
   * taken for a stale copy of an earlier one. 0 in version-1 batches.
   */
  readonly generation: number;
  /** The batch's place in its generation (0, 1, …); with the generation it names the batch. */
  readonly sequence: number;
  readonly events: readonly Entry[];
  readonly position: StreamPosition;
  /**
   * The position key of the batch capture sent before this one on the same
   * partition (after a rewind: the partition's checkpoint key as capture
   * read it; '' when it had none). A writer whose checkpoint is behind it
   * knows batches went missing from the queue and must not skip over them.
   */
  readonly previousKey: OrderingKey | '';
}

/** True for a batch that carries no events and only moves the partition forward. */
export function isHeartbeat(batch: ChangeBatch): boolean {
  return batch.events.length === 0;
}

/** The document `encodeBatch` writes, without its events. */
function headerDocument(batch: Omit<ChangeBatch, 'events'>): Document {
  return {
    v: BATCH_FORMAT_VERSION,
    p: batch.partition,
    g: batch.generation,
    s: batch.sequence,
    pos: { k: batch.position.key, t: batch.position.token },
    prev: batch.previousKey,
  };
}

function entryDocument(entry: BatchEntry): Document {
  return isClaimed(entry)
    ? { k: entry.key, at: entry.capturedAt, c: entry.claim, b: entry.bytes }
    : { k: entry.key, at: entry.capturedAt, e: entry.event };
}

/**
 * Encodes a batch as BSON, so every BSON type of the events survives the
 * queue exactly (JSON would not keep Decimal128, Long or binary subtypes).
 * Its length is exactly {@link batchHeaderBytes} plus each entry's
 * {@link batchEntryBytes}, which is how capture cuts batches to a limit.
 */
export function encodeBatch(batch: ChangeBatch): Uint8Array {
  return serializeDocument({ ...headerDocument(batch), ev: batch.events.map(entryDocument) });
}

/** The encoded size of a batch with these header fields and no events. */
export function batchHeaderBytes(batch: Omit<ChangeBatch, 'events'>): number {
  return BSON.calculateObjectSize({ ...headerDocument(batch), ev: [] });
}

/** Bytes of an ordering key field (`k`: type, name, length, 32 characters, NUL). */
const KEY_FIELD_BYTES = 1 + 2 + 4 + 32 + 1;
/** Bytes of the capture-time field (`at`: type, name, int64). */
const TIME_FIELD_BYTES = 1 + 3 + 8;

/**
 * The bytes the entry at `index` adds to an encoded batch, from the encoded
 * size of its change event (`BSON.calculateObjectSize`) or its claim path
 * (and the staged event's size, an int32) — computed, so capture need not
 * encode an event twice to cut a batch.
 */
export function batchEntryBytes(
  index: number,
  entry: { readonly eventBytes: number } | { readonly claim: string },
): number {
  const element = 1 + String(index).length + 1;
  const value =
    'claim' in entry
      ? 1 + 2 + 4 + Buffer.byteLength(entry.claim, 'utf8') + 1 + (1 + 2 + 4)
      : 1 + 2 + entry.eventBytes;
  return element + 4 + KEY_FIELD_BYTES + TIME_FIELD_BYTES + value + 1;
}

/** A staged change event is one MongoDB event: 16 MiB, with pre- and post-images three times that. */
const MAX_STAGED_EVENT_BYTES = 64 * 1024 * 1024;

function invalid(reason: string): CoreError {
  return new CoreError(
    'BATCH_INVALID',
    `Undecodable change batch: ${reason}. It cannot be retried; send it to the dead-letter set.`,
  );
}

const isObject = (v: unknown): v is Document =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

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
  if (!READABLE_VERSIONS.has(doc.v as number))
    throw invalid(`format version ${String(doc.v)}, expected ${BATCH_FORMAT_VERSION}`);
  const partition = doc.p;
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
    throw invalid(`partition ${String(partition)} is outside 0…${partitionCount - 1}`);
  }
  const [generation, sequence] = doc.v === 1 ? [0, 0] : [doc.g, doc.s];
  if (!isCount(generation) || !isCount(sequence))
    throw invalid('generation or sequence is not a whole number ≥ 0');
  if (!isObject(doc.pos) || !isOrderingKey(doc.pos.k) || !isObject(doc.pos.t)) {
    throw invalid('position lacks a valid key and resume token');
  }
  if (doc.prev !== '' && !isOrderingKey(doc.prev))
    throw invalid('previous key is not an ordering key');
  if (doc.prev !== '' && doc.prev > doc.pos.k) throw invalid('previous key is after the position');
  if (!Array.isArray(doc.ev)) throw invalid('events is not an array');
  const events: BatchEntry[] = [];
  // Version 1 did not promise that events follow the predecessor's key.
  let previous = doc.v === 1 ? '' : (doc.prev as string);
  for (const [index, raw] of (doc.ev as unknown[]).entries()) {
    const entry = decodeEntry(raw, index, partition);
    // Every event follows the batch's predecessor: capture never sends again
    // what it already sent on the partition.
    if (entry.key <= previous)
      throw invalid(`event ${index} is out of order (${entry.key} after ${previous})`);
    previous = entry.key;
    events.push(entry);
  }
  if (doc.pos.k < previous) throw invalid('position is behind the last event');
  return {
    partition,
    generation,
    sequence,
    events,
    position: { key: doc.pos.k, token: doc.pos.t },
    previousKey: doc.prev,
  };
}

function decodeEntry(raw: unknown, index: number, partition: number): BatchEntry {
  if (!isObject(raw) || !isOrderingKey(raw.k) || !(raw.at instanceof Date)) {
    throw invalid(`event ${index} lacks a key or a capture time`);
  }
  if (raw.c !== undefined) {
    if (typeof raw.c !== 'string' || !isClaimPath(raw.c, partition))
      throw invalid(`event ${index} has a claim check outside the partition's claims`);
    if (!Number.isInteger(raw.b) || raw.b < 0 || raw.b > MAX_STAGED_EVENT_BYTES)
      throw invalid(`event ${index} has a claim check without the staged event's size`);
    return { key: raw.k, capturedAt: raw.at, claim: raw.c, bytes: raw.b };
  }
  if (!isObject(raw.e) || typeof raw.e.operationType !== 'string' || !isObject(raw.e._id)) {
    throw invalid(`event ${index} is not a change event (no operationType or resume token)`);
  }
  return { key: raw.k, capturedAt: raw.at, event: raw.e };
}
