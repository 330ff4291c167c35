import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalLake, type Lake } from '@tributary/lake';
import { Timestamp } from 'bson';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLakeCheckpointStore } from '../../src/lake/lake-checkpoint-store.ts';
import { sampleCheckpoint } from '../checkpoint-conformance.ts';

describe('lake checkpoint store layout', () => {
  let rootDir: string;
  let lake: Lake;

  beforeEach(async () => {
    rootDir = await mkdtemp(join(tmpdir(), 'tributary-checkpoint-layout-'));
    lake = createLocalLake({ rootDir });
  });
  afterEach(async () => {
    await lake.close();
    await rm(rootDir, { recursive: true, force: true });
  });

  it('keeps one Extended JSON document per partition and one for the origin under the prefix', async () => {
    const store = createLakeCheckpointStore({ lake });
    await store.writePartition(sampleCheckpoint(3, 1), undefined);
    await store.writeOriginIfAbsent({
      startAtOperationTime: new Timestamp({ t: 1763730000, i: 2 }),
      createdAt: new Date(0),
    });
    const directory = join(rootDir, '_tributary/checkpoints');
    expect((await readdir(directory)).sort()).toEqual([
      'capture-origin.json',
      'partition-0003.json',
    ]);
    const origin = await readFile(join(directory, 'capture-origin.json'), 'utf8');
    expect(origin).toContain('"startAtOperationTime":{"$timestamp":{"t":1763730000,"i":2}}');
    await store.close();
  });

  it('uses the prefix it is given, so pipelines can share one lake', async () => {
    const a = createLakeCheckpointStore({ lake, prefix: 'pipelines/a/' });
    const b = createLakeCheckpointStore({ lake, prefix: 'pipelines/b' });
    await a.writePartition(sampleCheckpoint(0, 1), undefined);
    expect(await b.readPartition(0)).toBeUndefined();
    expect((await readdir(join(rootDir, 'pipelines/a'))).sort()).toEqual(['partition-0000.json']);
  });

  it('does not close the lake it was given', async () => {
    const store = createLakeCheckpointStore({ lake });
    await store.close();
    expect(await lake.stat('anything.json')).toBeUndefined();
  });
});
