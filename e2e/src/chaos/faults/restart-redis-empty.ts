import type { FaultPlanner } from '../chaos-fault.ts';

/** Longest time Redis stays down. */
const MAX_DOWN_MS = 1500;

/**
 * Restarts Redis empty (no persistence): every waiting batch, lease, fence
 * counter and dead letter is gone, and every connection drops. Capture must
 * notice and re-read from the checkpoints; writers must re-acquire their
 * partitions. The dead-letter census is read just before, since the
 * restart wipes the failed sets.
 */
export const restartRedisEmpty: FaultPlanner = (random) => {
  const downForMs = random.int(0, MAX_DOWN_MS);
  return {
    kind: 'restart-redis-empty',
    async inject({ deployment, deadLetters, label }) {
      await deadLetters.sample(`${label}, before the Redis restart`);
      await deployment.redis.restart({ downForMs });
      deadLetters.redisRestarted();
      return { summary: `restart Redis empty (down ${downForMs} ms)`, landed: true };
    },
  };
};
