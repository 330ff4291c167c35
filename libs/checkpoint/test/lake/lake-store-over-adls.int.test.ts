import { randomUUID } from 'node:crypto';
import { startAdlsEmulator, type AdlsEmulator } from '@tributary/emulator-adls';
import { createAdlsLake, type Lake } from '@tributary/lake';
import { afterAll, beforeAll } from 'vitest';
import { createLakeCheckpointStore } from '../../src/lake/lake-checkpoint-store.ts';
import { describeCheckpointConformance } from '../checkpoint-conformance.ts';

let emulator: AdlsEmulator | undefined;

beforeAll(async () => {
  emulator = await startAdlsEmulator();
});
afterAll(async () => {
  await emulator?.stop();
});

async function openLake(filesystem: string): Promise<Lake> {
  if (emulator === undefined) throw new Error('The ADLS emulator did not start.');
  return createAdlsLake({
    accountUrl: emulator.url,
    accountName: emulator.accountName,
    accountKey: emulator.accountKey,
    filesystem,
    retry: {
      maxRetries: 5,
      initialIntervalMs: 5,
      maxIntervalMs: 50,
      maxElapsedMs: 5_000,
      jitter: 0.5,
    },
  });
}

describeCheckpointConformance('lake checkpoint store over the ADLS emulator', async () => {
  const filesystem = `checkpoints-${randomUUID().slice(0, 8)}`;
  // Two lake clients: two writer processes, each with its own connection.
  const lake = await openLake(filesystem);
  const otherLake = await openLake(filesystem);
  const store = createLakeCheckpointStore({ lake });
  const otherStore = createLakeCheckpointStore({ lake: otherLake });
  return {
    store,
    otherStore,
    async corruptPartition(partition) {
      const path = `_tributary/checkpoints/partition-${String(partition).padStart(4, '0')}.json`;
      await lake.writeDocument(
        path,
        new TextEncoder().encode('{"format":{"$numberInt":"1"},"kind":'),
        {
          ifAbsent: true,
        },
      );
    },
    async dispose() {
      await store.close();
      await otherStore.close();
      await lake.close();
      await otherLake.close();
    },
  };
});
