import { CAPTURE } from '../chaos-deployment.ts';
import type { FaultPlanner } from '../chaos-fault.ts';

/** Longest delay before the kill: capture publishes all the time under the load, so any moment is mid-publish. */
const MAX_DELAY_MS = 1500;

/**
 * SIGKILLs capture at a random moment under the steady load — it reads,
 * batches and publishes continuously, so the kill lands with batches cut
 * but not published, and publishes in flight — then starts it again. It
 * must resume from the checkpoints and publish what was lost with it.
 */
export const killCapture: FaultPlanner = (random) => {
  const delayMs = random.int(0, MAX_DELAY_MS);
  return {
    kind: 'kill-capture',
    async inject({ deployment }) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await deployment.kill(CAPTURE);
      await deployment.restart(CAPTURE);
      return {
        summary: `kill capture during its publishes (${delayMs} ms into the round), restart it`,
        landed: true,
      };
    },
  };
};
