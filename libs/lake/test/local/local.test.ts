import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalLake } from '../../src/local/local-lake.ts';
import { describeLakeConformance } from '../lake-conformance.ts';

describeLakeConformance('local lake', async () => {
  const rootDir = await mkdtemp(join(tmpdir(), 'tributary-local-lake-'));
  const lake = createLocalLake({ rootDir });
  const otherClient = createLocalLake({ rootDir });
  return {
    lake,
    otherClient,
    async dispose() {
      await lake.close();
      await otherClient.close();
      await rm(rootDir, { recursive: true, force: true });
    },
  };
});
