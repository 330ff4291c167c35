import { describe, expect, it } from 'vitest';
import {
  T0,
  batchOf,
  changeEvent,
  failingCheckpoints,
  failingOnce,
  fixture,
  keysInLake,
  linesInLake,
} from './support.ts';

const range = (from: number, to: number, pad = 10) =>
  Array.from({ length: to - from }, (_, k) => changeEvent(from + k, { pad }));

/** Every key in the lake appears once and the set is exactly `expected`. */
async function expectExactlyOnce(keys: Promise<string[]>, expected: readonly string[]) {
  const found = await keys;
  expect([...found].sort()).toEqual([...expected].sort());
}

describe('a partition taken over more than once', () => {
  it('writes nothing twice when an owner dies after appending and the next one dies before its first batch', async () => {
    const { lake, checkpoints, writer } = fixture();
    const first = writer();
    await first.recover();
    await first.write(batchOf(3, range(0, 3)));
    // The second owner appends a batch, then dies before its checkpoint
    // (its first checkpoint write is the claim it makes on takeover).
    const dying = writer({ checkpoints: failingCheckpoints(checkpoints, 2) });
    await dying.recover();
    const inFlight = batchOf(3, range(3, 6), range(0, 3)[2]?.key);
    await expect(dying.write(inFlight)).rejects.toThrow(/injected checkpoint failure/);
    // The third owner takes over — claiming the partition, which stores a
    // checkpoint — and dies before the unacknowledged batch comes back.
    const shortLived = writer();
    await shortLived.recover();
    // The fourth owner finally gets the batch again.
    const last = writer();
    await last.recover();
    expect(await last.write(inFlight)).toMatchObject({ written: 0, dropped: 3 });
    await expectExactlyOnce(
      keysInLake(lake),
      range(0, 6).map((e) => e.key),
    );
  });

  it('writes nothing twice when an owner dies after a batch that rolled through several files', async () => {
    const { lake, checkpoints, writer } = fixture({ maxFileBytes: 2_000 });
    const first = writer();
    await first.recover();
    await first.write(batchOf(3, range(0, 2, 300)));
    // Claim (1), intent for the new files (2), final checkpoint (3) fails.
    const dying = writer({ checkpoints: failingCheckpoints(checkpoints, 3) });
    await dying.recover();
    const rolling = batchOf(3, range(2, 14, 300), range(0, 2)[1]?.key);
    await expect(dying.write(rolling)).rejects.toThrow(/injected checkpoint failure/);
    expect((await linesInLake(lake)).size).toBeGreaterThan(2);
    const next = writer();
    await next.recover();
    expect(await next.write(rolling)).toMatchObject({ written: 0, dropped: 12 });
    await expectExactlyOnce(
      keysInLake(lake),
      range(0, 14).map((e) => e.key),
    );
  });

  it('names, before the first append, every file a rolling batch goes on to fill', async () => {
    const { lake, checkpoints, writer } = fixture({ maxFileBytes: 2_000 });
    const w = writer();
    await w.recover();
    await w.write(batchOf(3, range(0, 2, 300)));
    const dying = writer({ checkpoints: failingCheckpoints(checkpoints, 3) });
    await dying.recover();
    await expect(dying.write(batchOf(3, range(2, 14, 300), range(0, 2)[1]?.key))).rejects.toThrow(
      /injected checkpoint failure/,
    );
    // The intent checkpoint, stored before the first append, names every file
    // the batch went on to fill, not only the one left open at its end.
    const stored = (await checkpoints.readPartition(3))?.value;
    const listed = new Set(stored?.openFiles.map((f) => f.path));
    const inLake = [...(await linesInLake(lake)).keys()];
    expect(inLake.length).toBeGreaterThan(2);
    // Every file holds lines of the failed batch (the first one was topped
    // up before the roll), so every one must be listed.
    expect(inLake.filter((path) => !listed.has(path))).toEqual([]);
  });

  it('uses, on the next attempt, a file whose recording failed after it was created', async () => {
    const { lake, checkpoints, writer } = fixture();
    // Writes: claim (1), first file (2), first batch (3); recording the
    // next hour's file (4) fails (a throttled lake) after it was created.
    const w = writer({ checkpoints: failingCheckpoints(checkpoints, 4) });
    await w.recover();
    const first = changeEvent(0);
    await w.write(batchOf(3, [first]));
    const nextHour = batchOf(3, [changeEvent(1, { t: T0 + 3600 })], first.key);
    await expect(w.write(nextHour)).rejects.toThrow(/injected checkpoint failure/);
    expect(await w.write(nextHour)).toMatchObject({ written: 1, filesOpened: 0 });
    expect((await linesInLake(lake)).size).toBe(2);
    await expectExactlyOnce(keysInLake(lake), [first.key, nextHour.events[0]?.key ?? '']);
  });

  it('creates a new file on the next attempt when its create failed after the intent was stored', async () => {
    const { lake, writer } = fixture();
    const first = changeEvent(0);
    const setUp = writer();
    await setUp.recover();
    await setUp.write(batchOf(3, [first]));
    const w = writer({ lake: failingOnce(lake, 'create', 1, 'hour=14') });
    await w.recover();
    const nextHour = batchOf(3, [changeEvent(1, { t: T0 + 3600 })], first.key);
    await expect(w.write(nextHour)).rejects.toThrow(/injected failure of create/);
    expect(await w.write(nextHour)).toMatchObject({ written: 1 });
    await expectExactlyOnce(keysInLake(lake), [first.key, nextHour.events[0]?.key ?? '']);
  });
});
