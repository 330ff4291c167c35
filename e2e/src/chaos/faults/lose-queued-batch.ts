import type { ChaosDeployment } from '../chaos-deployment.ts';
import type { FaultOutcome, FaultPlanner } from '../chaos-fault.ts';
import { presentInLake } from '../lake-presence.ts';
import type { QueuedBatch, QueuedEvent } from '../queued-batches.ts';
import { HOLD_WAIT_MS, dataFlushHold, untilFired } from './held-requests.ts';

/** Batches that must wait before one is lost: with two, the lost one has a successor. */
const BACKLOG = 2;
/**
 * How long the lost batch's events (and those queued behind it) may take
 * to reach the lake with no other fault's help. Generous — a healthy
 * pipeline needs about a second — so only a gap that does not heal counts;
 * without this wait, a later capture or Redis restart re-reads everything
 * and would hide a partition stalled by the gap.
 */
const HEAL_TIMEOUT_MS = 30_000;
const HEAL_POLL_MS = 500;

/**
 * Makes the queue lose one waiting batch of a data partition the way its
 * broker does — BullMQ: the job deleted, as Redis restarted from a stale
 * file; Service Bus: the message expired before its time, as its time to
 * live running out — a gap in the partition's chain of batches with no
 * change of queue epoch. To be sure batches wait, the partition's owner is
 * held in its next data-file flush until the backlog is there; a batch that
 * carries events is preferred over a heartbeat. The owner is let go at once
 * after, and the round waits until the lost events and those queued behind
 * them are in the lake: the pipeline must notice the gap and fill it.
 */
export const loseQueuedBatch: FaultPlanner = (random, { dataPartitions }) => {
  const partition = random.pick(dataPartitions);
  const which = random.next();
  return {
    kind: 'lose-queued-batch',
    async inject({ deployment }): Promise<FaultOutcome> {
      const { queue } = deployment;
      const what = `${queue.loseWords} a queued batch of partition ${partition}`;
      const { faults } = deployment.adls;
      const hold = faults.add(dataFlushHold(partition, 'before'));
      let victim: QueuedBatch | undefined;
      let behind: QueuedBatch[] = [];
      let waiting: QueuedBatch[] = [];
      try {
        await untilFired(deployment.adls, hold);
        waiting = await backlogOf(() => queue.waitingBatches(partition));
        const withEvents = waiting.filter((batch) => (batch.events?.length ?? 0) > 0);
        const candidates = withEvents.length > 0 ? withEvents : waiting;
        victim = candidates[Math.floor(which * candidates.length)];
        if (!victim) return { summary: `${what}: did not land (no batch waiting)`, landed: false };
        const lost = await queue.loseWaitingBatch(partition, victim.id);
        if (!lost)
          return { summary: `${what}: did not land (${victim.id} was taken first)`, landed: false };
        behind = waiting.slice(waiting.indexOf(victim) + 1);
      } finally {
        faults.remove(hold);
      }
      const lostEvents = victim.events ?? [];
      const awaited = [...lostEvents, ...behind.flatMap((batch) => batch.events ?? [])];
      const summary = `${queue.loseWords} queued batch ${victim.id} (${lostEvents.length} events, ${waiting.length} waiting) of partition ${partition}`;
      const healed = await untilInLake(deployment, partition, awaited);
      return healed.missing === 0
        ? {
            summary: `${summary}; its events and the ${awaited.length - lostEvents.length} behind it reached the lake ${seconds(healed.ms)} later`,
            landed: true,
          }
        : {
            summary: `${summary}; GAP NOT HEALED: ${healed.missing} of the ${awaited.length} events it and the batches behind it carried were not in the lake after ${seconds(healed.ms)}`,
            landed: true,
            unhealedGap: `partition ${partition}: ${healed.missing} of ${awaited.length} events not in the lake ${seconds(healed.ms)} after ${victim.id} was lost`,
          };
    },
  };
};

/** Waits until every awaited event has a line in the lake, or the heal timeout passes. */
async function untilInLake(
  deployment: ChaosDeployment,
  partition: number,
  awaited: readonly QueuedEvent[],
): Promise<{ missing: number; ms: number }> {
  const started = Date.now();
  for (;;) {
    const present = await presentInLake(deployment.lake, partition, awaited);
    const missing = awaited.filter((event) => !present.has(event.token)).length;
    const ms = Date.now() - started;
    if (missing === 0 || ms >= HEAL_TIMEOUT_MS) return { missing, ms };
    await new Promise((resolve) => setTimeout(resolve, HEAL_POLL_MS));
  }
}

/** Reads the waiting batches until {@link BACKLOG} of them wait, or the wait is over (then what there is). */
async function backlogOf(read: () => Promise<QueuedBatch[]>): Promise<QueuedBatch[]> {
  const started = Date.now();
  for (;;) {
    const waiting = await read();
    const enough =
      waiting.length >= BACKLOG && waiting.some((batch) => (batch.events?.length ?? 0) > 0);
    if (enough || Date.now() - started > HOLD_WAIT_MS) return waiting;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
