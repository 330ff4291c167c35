import type { FaultPlanner } from '../chaos-fault.ts';

/**
 * ADLS answers 503 ServerBusy to a share (20–40 %) of all requests for a
 * few seconds, as a throttled storage account does. Writers must retry,
 * never dead-letter: throttling is the environment's failure, not a
 * batch's. The emulator's randomness is seeded with the run's seed.
 */
export const adlsThrottling: FaultPlanner = (random) => {
  const percent = random.int(20, 40);
  const forMs = random.int(2000, 6000);
  return {
    kind: 'adls-503s',
    async inject({ deployment }) {
      const { faults } = deployment.adls;
      const rule = faults.add({ status: 503, probability: percent / 100 });
      let refused = 0;
      try {
        await new Promise((resolve) => setTimeout(resolve, forMs));
      } finally {
        refused = faults.list().find((r) => r.id === rule)?.fired ?? 0;
        faults.remove(rule);
      }
      return {
        summary: `ADLS answers 503 to ${percent}% of requests for ${(forMs / 1000).toFixed(1)} s (${refused} refused)`,
        landed: true,
      };
    },
  };
};
