import { createMemoryLake } from '../../src/memory/memory-lake.ts';
import { describeLakeConformance } from '../lake-conformance.ts';

describeLakeConformance('memory lake', async () => {
  const lake = createMemoryLake();
  return { lake, otherClient: lake, dispose: () => lake.close() };
});
