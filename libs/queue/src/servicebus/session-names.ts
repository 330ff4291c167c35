import type { OutgoingBatch } from '../transport.ts';

/**
 * Names on the Service Bus queue. Partition `n` is the session `p<n>`; the
 * writers' registry (see `WriterRegistry`) is the session
 * {@link REGISTRY_SESSION}, which never carries a message.
 */

/** The session that holds the writers' registry in its session state. */
export const REGISTRY_SESSION = 'tributary.writers';

/** The session id of partition `partition`. */
export function sessionOf(partition: number): string {
  return `p${partition}`;
}

/** The partition a session id names, or undefined for any other session. */
export function partitionOfSession(sessionId: string | undefined): number | undefined {
  const match = /^p(\d{1,4})$/.exec(sessionId ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * A batch's message id: the same for every publish of the same batch, so
 * the queue's duplicate detection drops a re-send; a batch re-sent after a
 * rewind (a new generation) gets a new one. At most 128 characters, as the
 * service requires.
 */
export function messageIdOf(
  batch: Pick<OutgoingBatch, 'partition' | 'generation' | 'sequence'>,
): string {
  return `p${batch.partition}.g${batch.generation}.s${batch.sequence}`;
}
