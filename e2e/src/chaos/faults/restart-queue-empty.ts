import type { FaultPlanner } from '../chaos-fault.ts';

/** Longest time the broker stays down. */
const MAX_DOWN_MS = 1500;

/**
 * Loses everything the queue holds at once: Redis restarted empty (no
 * persistence) — every waiting batch, lease, fence counter and dead letter
 * gone — or the Service Bus queue deleted and created again — every
 * message, session lock, session state and dead letter gone. Every
 * connection drops. Capture must notice (or the writers' gap reports must
 * tell it) and re-read from the checkpoints; writers must own their
 * partitions again. The dead-letter census is read just before, since the
 * restart wipes the dead letters.
 */
export const restartQueueEmpty: FaultPlanner = (random) => {
  const downForMs = random.int(0, MAX_DOWN_MS);
  return {
    kind: 'restart-queue-empty',
    async inject({ deployment, deadLetters, label }) {
      const { queue } = deployment;
      await deadLetters.sample(`${label}, before the queue was lost`);
      await queue.restartEmpty(downForMs);
      deadLetters.brokerRestarted();
      return { summary: `${queue.restartEmptyWords} (down ${downForMs} ms)`, landed: true };
    },
  };
};
