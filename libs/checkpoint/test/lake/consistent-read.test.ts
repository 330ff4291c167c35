import { createMemoryLake, type Lake } from '@tributary/lake';
import { describe, expect, it } from 'vitest';
import { createLakeCheckpointStore } from '../../src/lake/lake-checkpoint-store.ts';
import { expectCheckpointError, sampleCheckpoint } from '../checkpoint-conformance.ts';

/** A lake where another writer replaces the document right after each of our reads. */
function lakeWithRacingWriter(lake: Lake, race: () => Promise<void>): Lake {
  const readDocument: Lake['readDocument'] = async (path) => {
    const stored = await lake.readDocument(path);
    await race();
    return stored;
  };
  return new Proxy(lake, {
    get(target, property) {
      if (property === 'readDocument') return readDocument;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('lake checkpoint store reads', () => {
  it('never pairs a checkpoint with the version of a newer one, however busy its writer', async () => {
    const lake = createMemoryLake();
    const writer = createLakeCheckpointStore({ lake });
    let version = await writer.writePartition(sampleCheckpoint(0, 1), undefined);
    let seq = 1;
    const race = async () => {
      seq += 1;
      version = await writer.writePartition(sampleCheckpoint(0, seq), version);
    };
    const reader = createLakeCheckpointStore({ lake: lakeWithRacingWriter(lake, race) });
    // The document changes after every read, and the read still succeeds: the
    // bytes and the version come from one step of the lake.
    const stored = await reader.readPartition(0);
    expect(stored?.value).toEqual(sampleCheckpoint(0, 1));
    if (stored === undefined) throw new Error('expected a checkpoint');
    // That version is older than the live one, so a compare-and-set with it
    // is refused: a stale reader can never overwrite the newer checkpoint.
    await expectCheckpointError(
      reader.writePartition(sampleCheckpoint(0, 10), stored.version),
      'CONFLICT',
    );
    expect((await writer.readPartition(0))?.value).toEqual(sampleCheckpoint(0, seq));
  });
});
