import type { FaultOutcome, FaultPlanner } from '../chaos-fault.ts';
import { type QueuedBatch, deleteWaitingBatch, waitingBatches } from '../queued-batches.ts';
import { HOLD_WAIT_MS, dataFlushHold, untilFired } from './held-requests.ts';

/** Batches that must wait before one is deleted: with two, the deleted one has a successor. */
const BACKLOG = 2;

/**
 * Deletes one waiting batch of a data partition — a gap in the partition's
 * chain of batches with no change of queue epoch, as when a queue loses a
 * single message. To be sure batches wait, the partition's owner is held
 * in its next data-file flush until the backlog is there; a batch that
 * carries events is preferred over a heartbeat. The owner is let go at once
 * after; the pipeline must notice the gap and fill it.
 */
export const deleteQueuedBatch: FaultPlanner = (random, { dataPartitions }) => {
  const partition = random.pick(dataPartitions);
  const which = random.next();
  return {
    kind: 'delete-queued-batch',
    async inject({ deployment }): Promise<FaultOutcome> {
      const { faults } = deployment.adls;
      const hold = faults.add(dataFlushHold(partition, 'before'));
      try {
        await untilFired(deployment.adls, hold);
        const waiting = await backlogOf(() =>
          waitingBatches(
            deployment.redis.url,
            deployment.queueName,
            deployment.partitionCount,
            partition,
          ),
        );
        const withEvents = waiting.filter((batch) => (batch.events ?? 0) > 0);
        const candidates = withEvents.length > 0 ? withEvents : waiting;
        const victim = candidates[Math.floor(which * candidates.length)];
        if (!victim)
          return {
            summary: `delete a queued batch of partition ${partition}: did not land (no batch waiting)`,
            landed: false,
          };
        const deleted = await deleteWaitingBatch(
          deployment.redis.url,
          deployment.queueName,
          partition,
          victim.id,
        );
        const events = victim.events === undefined ? 'unknown events' : `${victim.events} events`;
        return deleted
          ? {
              summary: `delete queued batch ${victim.id} (${events}, ${waiting.length} waiting) of partition ${partition}`,
              landed: true,
            }
          : {
              summary: `delete a queued batch of partition ${partition}: did not land (${victim.id} was taken first)`,
              landed: false,
            };
      } finally {
        faults.remove(hold);
      }
    },
  };
};

/** Reads the waiting batches until {@link BACKLOG} of them wait, or the wait is over (then what there is). */
async function backlogOf(read: () => Promise<QueuedBatch[]>): Promise<QueuedBatch[]> {
  const started = Date.now();
  for (;;) {
    const waiting = await read();
    const enough = waiting.length >= BACKLOG && waiting.some((b) => (b.events ?? 0) > 0);
    if (enough || Date.now() - started > HOLD_WAIT_MS) return waiting;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
