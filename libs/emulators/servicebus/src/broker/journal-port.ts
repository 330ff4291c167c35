import type { QueueProperties } from '../config/queue-properties.ts';
import type { MessageState, SubqueueKind } from './stored-message.ts';

/** Everything needed to rebuild a stored message after a restart. */
export interface MessageImage {
  subqueue: SubqueueKind;
  sequenceNumber: number;
  enqueuedTimeMs: number;
  expiresAtMs: number;
  state: MessageState;
  deliveryCount: number;
  durable: boolean;
  priority: number;
  /** The time to live applied (journals written before it was recorded: the sender's, or none). */
  ttlMs: number | undefined;
  messageId: string | undefined;
  sessionId: string | undefined;
  partitionKey: string | undefined;
  annotations: Buffer;
  annotationCount: number;
  rest: Buffer;
}

/**
 * One change to the broker's durable state. A restart replays them in
 * order; each is complete on its own, so a crash leaves every change either
 * wholly applied or not at all.
 */
export type JournalRecord =
  | { kind: 'queue'; queue: string; properties: QueueProperties }
  | { kind: 'enqueue'; queue: string; message: MessageImage }
  | { kind: 'remove'; queue: string; subqueue: SubqueueKind; sequenceNumber: number }
  | {
      kind: 'update';
      queue: string;
      subqueue: SubqueueKind;
      sequenceNumber: number;
      deliveryCount: number;
      state: MessageState;
      enqueuedTimeMs: number;
      /** New sections from `properties` on, when application properties changed. */
      rest: Buffer | undefined;
    }
  | {
      kind: 'dead-letter';
      queue: string;
      sequenceNumber: number;
      deliveryCount: number;
      rest: Buffer;
    }
  | {
      /** A scheduled message became active under a new sequence number. */
      kind: 'activate';
      queue: string;
      scheduledSequenceNumber: number;
      sequenceNumber: number;
      enqueuedTimeMs: number;
      expiresAtMs: number;
    }
  | { kind: 'session-state'; queue: string; sessionId: string; state: Buffer | undefined }
  | { kind: 'sequence'; queue: string; next: number }
  | { kind: 'duplicate'; queue: string; messageId: string; seenAtMs: number };

/**
 * Where the broker records its changes. The broker appends synchronously as
 * it changes its state; whoever answers a client waits for
 * {@link Journal.barrier} first, so nothing a client was told can be undone
 * by a crash.
 */
export interface Journal {
  append(record: JournalRecord): void;
  /** Resolves once every record appended so far is durable; rejects when the journal failed. */
  barrier(): Promise<void>;
}

const resolved = Promise.resolve();

/** The in-memory broker's journal: records nothing, so everything is at once "durable". */
export const NO_JOURNAL: Journal = {
  append: () => undefined,
  barrier: () => resolved,
};
