import { createMemoryLake } from '@tributary/lake';
import { createLakeCheckpointStore } from '../../src/lake/lake-checkpoint-store.ts';
import { describeCheckpointConformance } from '../checkpoint-conformance.ts';

describeCheckpointConformance('lake checkpoint store over the memory lake', async () => {
  const lake = createMemoryLake();
  const store = createLakeCheckpointStore({ lake, prefix: '_tributary/checkpoints' });
  const otherStore = createLakeCheckpointStore({ lake });
  return {
    store,
    otherStore,
    async corruptPartition(partition) {
      const path = `_tributary/checkpoints/partition-${String(partition).padStart(4, '0')}.json`;
      await lake.writeDocument(path, new TextEncoder().encode('{"format": {"$numberInt": "1"'), {
        ifAbsent: true,
      });
    },
    async dispose() {
      await store.close();
      await otherStore.close();
      await lake.close();
    },
  };
});
