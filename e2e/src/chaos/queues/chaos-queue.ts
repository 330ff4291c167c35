import type { QueuedBatch } from '../queued-batches.ts';

/** The transports a chaos run can put under fire. */
export type ChaosTransport = 'bullmq' | 'servicebus';

/** A dead letter as the harness reads it from the broker. */
export interface DeadLetterRecord {
  readonly partition: number;
  readonly id: string;
  readonly reason: string;
}

/**
 * The durable queue under chaos, seen from the outside as an operator's
 * tools see it (Redis keys the BullMQ adapter documents; the Service Bus
 * SDK) — never through the adapter it is checking — plus the faults only
 * the broker's side can make.
 */
export interface ChaosQueue {
  readonly transport: ChaosTransport;
  /** What capture and the writers need in their environment to reach it. */
  readonly env: Readonly<Record<string, string>>;
  /** How a restart empty reads in a progress line (e.g. `restart Redis empty`). */
  readonly restartEmptyWords: string;
  /** How losing one batch reads (`delete`, `expire`). */
  readonly loseWords: string;
  /** Partition `p`'s batches waiting in the queue, oldest first. */
  waitingBatches(partition: number): Promise<QueuedBatch[]>;
  /**
   * Makes the queue lose one waiting batch the way this broker does;
   * false when it was no longer waiting (its owner took it first).
   */
  loseWaitingBatch(partition: number, id: string): Promise<boolean>;
  /**
   * Whether a dead letter is the broker's own record of a batch
   * {@link loseWaitingBatch} made it lose (Service Bus dead-letters an
   * expired message): the fault's doing, not a false dead letter.
   */
  isLostByFault(record: DeadLetterRecord): boolean;
  /** Loses everything at once — every batch, lock and dead letter — and comes back after `downForMs`. */
  restartEmpty(downForMs: number): Promise<void>;
  /** Every dead letter the broker holds now. */
  deadLetters(): Promise<DeadLetterRecord[]>;
  close(): Promise<void>;
}
