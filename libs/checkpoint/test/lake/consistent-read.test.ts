import { createMemoryLake, type Lake } from '@tributary/lake';
import { describe, expect, it } from 'vitest';
import { createLakeCheckpointStore } from '../../src/lake/lake-checkpoint-store.ts';
import { expectCheckpointError, sampleCheckpoint } from '../checkpoint-conformance.ts';

/** A lake where another writer replaces the document right after each of our first `times` reads. */
function lakeWithRacingWriter(lake: Lake, race: () => Promise<void>, times: number): Lake {
  let remaining = times;
  return {
    stat: (path) => lake.stat(path),
    create: (path) => lake.create(path),
    append: (path, offset, data, options) => lake.append(path, offset, data, options),
    writeDocument: (path, data, condition) => lake.writeDocument(path, data, condition),
    list: (prefix) => lake.list(prefix),
    close: () => lake.close(),
    read: async (path, offset, length) => {
      const data = await lake.read(path, offset, length);
      if (remaining > 0) {
        remaining -= 1;
        await race();
      }
      return data;
    },
  };
}

describe('lake checkpoint store reads', () => {
  it('never pairs a checkpoint with the version of a newer one', async () => {
    const lake = createMemoryLake();
    const writer = createLakeCheckpointStore({ lake });
    let version = await writer.writePartition(sampleCheckpoint(0, 1), undefined);
    let seq = 1;
    const race = async () => {
      seq += 1;
      version = await writer.writePartition(sampleCheckpoint(0, seq), version);
    };
    const reader = createLakeCheckpointStore({ lake: lakeWithRacingWriter(lake, race, 2) });
    const stored = await reader.readPartition(0);
    // Whatever it returns, the version must be the one of the content it returns.
    expect(stored).toEqual({ value: sampleCheckpoint(0, 3), version });
    // And that version is the live one: a compare-and-set with it passes.
    if (stored === undefined) throw new Error('expected a checkpoint');
    await reader.writePartition(sampleCheckpoint(0, 10), stored.version);
  });

  it('gives up with UNAVAILABLE when the document never holds still', async () => {
    const lake = createMemoryLake();
    const writer = createLakeCheckpointStore({ lake });
    let version = await writer.writePartition(sampleCheckpoint(0, 1), undefined);
    let seq = 1;
    const race = async () => {
      seq += 1;
      version = await writer.writePartition(sampleCheckpoint(0, seq), version);
    };
    const reader = createLakeCheckpointStore({ lake: lakeWithRacingWriter(lake, race, 100) });
    await expectCheckpointError(reader.readPartition(0), 'UNAVAILABLE');
  });
});
