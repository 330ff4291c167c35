import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalLake } from '@tributary/lake';
import { createLakeCheckpointStore } from '../../src/lake/lake-checkpoint-store.ts';
import { describeCheckpointConformance } from '../checkpoint-conformance.ts';

describeCheckpointConformance('lake checkpoint store over the local lake', async () => {
  const rootDir = await mkdtemp(join(tmpdir(), 'tributary-checkpoints-'));
  // Two clients of one directory: two writer processes sharing a volume.
  const lake = createLocalLake({ rootDir });
  const otherLake = createLocalLake({ rootDir });
  const store = createLakeCheckpointStore({ lake });
  const otherStore = createLakeCheckpointStore({ lake: otherLake });
  return {
    store,
    otherStore,
    async corruptPartition(partition) {
      // Written behind the store's back, as a damaged disk or a hand edit would.
      await mkdir(join(rootDir, '_tributary/checkpoints'), { recursive: true });
      const file = `partition-${String(partition).padStart(4, '0')}.json`;
      await writeFile(join(rootDir, '_tributary/checkpoints', file), '\u0000\u0000garbage');
    },
    async dispose() {
      await store.close();
      await otherStore.close();
      await lake.close();
      await otherLake.close();
      await rm(rootDir, { recursive: true, force: true });
    },
  };
});
