import { Binary, Long, Timestamp } from 'bson';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  CaptureOrigin,
  CheckpointStore,
  PartitionCheckpoint,
  ResumeOverride,
} from '../src/checkpoint-store.ts';
import { isCheckpointError, type CheckpointErrorCode } from '../src/checkpoint-error.ts';

/** What one conformance run needs from a store. */
export interface CheckpointFixture {
  /** The store under test, over fresh, empty storage. */
  readonly store: CheckpointStore;
  /** A second, independent store over the same storage (a second writer). */
  readonly otherStore: CheckpointStore;
  /** Puts bytes that are not a checkpoint where partition `partition`'s checkpoint belongs. */
  corruptPartition(partition: number): Promise<void>;
  /** Closes both stores and removes the storage. */
  dispose(): Promise<void>;
}

/** Awaits `promise` and asserts it fails with a `CheckpointError` of `code`. */
export async function expectCheckpointError(
  promise: Promise<unknown>,
  code: CheckpointErrorCode,
): Promise<void> {
  const outcome = await promise.then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`Expected CheckpointError ${code}, got a result.`);
  if (!isCheckpointError(outcome.error)) throw outcome.error;
  expect(outcome.error.code).toBe(code);
}

/** A realistic checkpoint: a resume token as MongoDB sends it, dates, an open file. */
export function sampleCheckpoint(
  partition: number,
  seq: number,
  writerId = 'writer-a',
): PartitionCheckpoint {
  return {
    partition,
    position: {
      key: `1763730000-${String(seq).padStart(10, '0')}-0000000000`,
      token: {
        _data: `8267${seq.toString(16).padStart(8, '0')}000000012B022C0100296E5A1004`,
        _typeBits: new Binary(Buffer.from([0x40, 0x01]), 0),
      },
    },
    openFiles: [
      {
        path: `db/coll/year=2026/month=11/day=21/hour=13/part-${partition}-1763730000-0000000001-0000000000.jsonl`,
        firstKey: '1763730000-0000000001-0000000000',
        length: 1024 * seq,
        version: `"0x8DE${seq}"`,
        openedAt: new Date('2026-11-21T13:00:00.123Z'),
      },
      {
        path: `db/coll/year=2026/month=11/day=21/hour=12/part-${partition}-1763726400-0000000001-0000000000.jsonl`,
        firstKey: '1763726400-0000000001-0000000000',
        length: 77,
        version: '"0x8DE0"',
        openedAt: new Date('2026-11-21T12:00:00.000Z'),
        closed: true,
      },
    ],
    writerId,
    updatedAt: new Date(Date.UTC(2026, 10, 21, 13, 40, seq)),
  };
}

/** A resume override as `tributary resume-point set` stores one. */
export function sampleOverride(kind: ResumeOverride['kind'], second: number): ResumeOverride {
  return {
    kind,
    to: {
      clusterTime: new Timestamp({ t: 1763730000 + second, i: 0 }),
      ...(kind === 'gap'
        ? { token: { _data: '8267', _typeBits: new Binary(Buffer.from([0x40]), 0) } }
        : {}),
    },
    from: {
      key: '1763730000-0000000003-0000000000',
      clusterTime: new Timestamp({ t: 1763730000, i: 3 }),
      token: { _data: '82691FD5D0000000032B0229296E04' },
    },
    setAt: new Date(Date.UTC(2026, 10, 21, 13, 40, second)),
  };
}

/**
 * The checkpoint-store port's behaviour, written once and run against every
 * store (Redis, the lake store over each lake adapter).
 */
export function describeCheckpointConformance(
  name: string,
  makeFixture: () => Promise<CheckpointFixture>,
): void {
  describe(`${name} (checkpoint conformance)`, () => {
    let fixture: CheckpointFixture;
    let store: CheckpointStore;

    beforeEach(async () => {
      fixture = await makeFixture();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('reads a partition without a checkpoint as undefined', async () => {
      expect(await store.readPartition(3)).toBeUndefined();
    });

    it('stores a first checkpoint with no expected version and reads it back with that version', async () => {
      const version = await store.writePartition(sampleCheckpoint(3, 1), undefined);
      const stored = await store.readPartition(3);
      expect(stored?.version).toBe(version);
      expect(stored?.value).toEqual(sampleCheckpoint(3, 1));
    });

    it('replaces a checkpoint under its current version and moves the version', async () => {
      const first = await store.writePartition(sampleCheckpoint(0, 1), undefined);
      const second = await store.writePartition(sampleCheckpoint(0, 2), first);
      expect(second).not.toBe(first);
      expect(await store.readPartition(0)).toEqual({
        value: sampleCheckpoint(0, 2),
        version: second,
      });
    });

    it('refuses a stale expected version with CONFLICT and keeps the stored checkpoint', async () => {
      const first = await store.writePartition(sampleCheckpoint(1, 1), undefined);
      const second = await store.writePartition(sampleCheckpoint(1, 2), first);
      await expectCheckpointError(
        store.writePartition(sampleCheckpoint(1, 3, 'old-owner'), first),
        'CONFLICT',
      );
      expect(await store.readPartition(1)).toEqual({
        value: sampleCheckpoint(1, 2),
        version: second,
      });
    });

    it('refuses a first write with CONFLICT when a checkpoint is already stored', async () => {
      const version = await store.writePartition(sampleCheckpoint(2, 1), undefined);
      await expectCheckpointError(
        store.writePartition(sampleCheckpoint(2, 9), undefined),
        'CONFLICT',
      );
      expect((await store.readPartition(2))?.version).toBe(version);
    });

    it('refuses an expected version when nothing is stored, with CONFLICT', async () => {
      await expectCheckpointError(store.writePartition(sampleCheckpoint(4, 1), '1'), 'CONFLICT');
      expect(await store.readPartition(4)).toBeUndefined();
    });

    it('treats a retried write whose answer was lost as done, not as a CONFLICT', async () => {
      const first = await store.writePartition(sampleCheckpoint(8, 1), undefined);
      // The caller never heard back and sends the same write again.
      expect(await store.writePartition(sampleCheckpoint(8, 1), undefined)).toBe(first);
      const second = await store.writePartition(sampleCheckpoint(8, 2), first);
      expect(await fixture.otherStore.writePartition(sampleCheckpoint(8, 2), first)).toBe(second);
      expect(await store.readPartition(8)).toEqual({
        value: sampleCheckpoint(8, 2),
        version: second,
      });
      // Different content under the old version is still refused.
      await expectCheckpointError(store.writePartition(sampleCheckpoint(8, 3), first), 'CONFLICT');
    });

    it('lets exactly one of two writers with the same expected version win', async () => {
      let expected: string | undefined;
      for (let round = 1; round <= 4; round += 1) {
        const results = await Promise.allSettled([
          store.writePartition(sampleCheckpoint(5, round, 'writer-a'), expected),
          fixture.otherStore.writePartition(sampleCheckpoint(5, round, 'writer-b'), expected),
        ]);
        const won = results.flatMap((r, i) =>
          r.status === 'fulfilled' ? [{ i, version: r.value }] : [],
        );
        expect(won).toHaveLength(1);
        const lost = results.find((r) => r.status === 'rejected');
        expect(isCheckpointError(lost?.reason) && lost.reason.code).toBe('CONFLICT');
        const stored = await store.readPartition(5);
        expect(stored?.version).toBe(won[0]?.version);
        expect(stored?.value.writerId).toBe(won[0]?.i === 0 ? 'writer-a' : 'writer-b');
        expected = stored?.version;
      }
    });

    it('reads every partition’s checkpoint at once, leaving out partitions without one', async () => {
      await store.writePartition(sampleCheckpoint(0, 1), undefined);
      await store.writePartition(sampleCheckpoint(2, 2), undefined);
      await store.writePartition(sampleCheckpoint(7, 3), undefined);
      const all = await store.readAllPartitions(4);
      expect([...all.keys()].sort()).toEqual([0, 2]);
      expect(all.get(2)).toEqual(sampleCheckpoint(2, 2));
      expect((await store.readAllPartitions(8)).get(7)).toEqual(sampleCheckpoint(7, 3));
      expect((await fixture.otherStore.readAllPartitions(1)).size).toBe(1);
    });

    it('reads forty partitions at once, each with its own checkpoint', async () => {
      await Promise.all(
        Array.from({ length: 40 }, (_, p) =>
          store.writePartition(sampleCheckpoint(p, p + 1), undefined),
        ),
      );
      const all = await fixture.otherStore.readAllPartitions(40);
      expect(all.size).toBe(40);
      for (let p = 0; p < 40; p += 1) expect(all.get(p)).toEqual(sampleCheckpoint(p, p + 1));
    });

    it('keeps the first origin stored: later writers get the stored one back', async () => {
      expect(await store.readOrigin()).toBeUndefined();
      const first: CaptureOrigin = {
        startAtOperationTime: new Timestamp({ t: 1763730000, i: 5 }),
        createdAt: new Date('2026-11-21T13:40:00Z'),
      };
      const later: CaptureOrigin = {
        startAtOperationTime: new Timestamp({ t: 1763739999, i: 1 }),
        createdAt: new Date('2026-11-21T15:00:00Z'),
      };
      expect(await store.writeOriginIfAbsent(first)).toEqual(first);
      expect(await fixture.otherStore.writeOriginIfAbsent(later)).toEqual(first);
      expect(await store.readOrigin()).toEqual(first);
    });

    it('lets exactly one of two concurrent captures set the origin', async () => {
      const [a, b] = await Promise.all([
        store.writeOriginIfAbsent({
          startAtOperationTime: new Timestamp({ t: 100, i: 1 }),
          createdAt: new Date(1),
        }),
        fixture.otherStore.writeOriginIfAbsent({
          startAtOperationTime: new Timestamp({ t: 200, i: 1 }),
          createdAt: new Date(2),
        }),
      ]);
      expect(a).toEqual(b);
      expect(await store.readOrigin()).toEqual(a);
    });

    it('stores a checkpoint without a position (a claim before the partition’s first batch)', async () => {
      const { position: _unused, ...withoutPosition } = sampleCheckpoint(7, 1);
      await store.writePartition(withoutPosition, undefined);
      const stored = (await store.readPartition(7))?.value;
      expect(stored?.position).toBeUndefined();
      expect(stored).toEqual(withoutPosition);
    });

    it('stores, replaces, lists and clears gap reports per partition', async () => {
      expect(await store.readGaps()).toEqual([]);
      const report = (partition: number, generation: number) => ({
        partition,
        afterKey:
          generation === 0 ? '' : `1763730000-${String(generation).padStart(10, '0')}-0000000000`,
        generation,
        missingUpTo: '1763730000-0000000099-0000000000',
        writerId: 'writer-a',
        reportedAt: new Date(Date.UTC(2026, 10, 21, 13, generation)),
      });
      await store.reportGap(report(2, 0));
      await store.reportGap(report(5, 1));
      await fixture.otherStore.reportGap(report(5, 2));
      const byPartition = (reports: { partition: number }[]) =>
        [...reports].sort((a, b) => a.partition - b.partition);
      expect(byPartition(await fixture.otherStore.readGaps())).toEqual([
        report(2, 0),
        report(5, 2),
      ]);
      // Clearing a report that was replaced since leaves the newer one.
      await store.clearGap(report(5, 1));
      await store.clearGap(report(2, 0));
      await store.clearGap(report(2, 0));
      await store.clearGap(report(9, 3));
      expect(await store.readGaps()).toEqual([report(5, 2)]);
      // Gap reports are not checkpoints.
      expect(await store.readAllPartitions(16)).toEqual(new Map());
    });

    it('round-trips BSON Timestamps, resume tokens and 64-bit integers with their exact types', async () => {
      const checkpoint = sampleCheckpoint(6, 1);
      const token = {
        _data: '826A1F',
        _typeBits: new Binary(Buffer.from([1, 2, 3]), 0),
        n: Long.fromString('9007199254740993'),
      };
      await store.writePartition(
        { ...checkpoint, position: { key: checkpoint.position?.key ?? '', token } },
        undefined,
      );
      const stored = (await store.readPartition(6))?.value.position?.token;
      expect(stored?._data).toBe('826A1F');
      expect(stored?._typeBits).toBeInstanceOf(Binary);
      expect([...(stored?._typeBits as Binary).buffer]).toEqual([1, 2, 3]);
      expect(stored?.n).toBeInstanceOf(Long);
      expect((stored?.n as Long).toString()).toBe('9007199254740993');

      await store.writeOriginIfAbsent({
        startAtOperationTime: new Timestamp({ t: 4294967295, i: 4294967295 }),
        createdAt: new Date(0),
      });
      const origin = await store.readOrigin();
      expect(origin?.startAtOperationTime).toBeInstanceOf(Timestamp);
      expect(origin?.startAtOperationTime.t).toBe(4294967295);
      expect(origin?.startAtOperationTime.i).toBe(4294967295);
    });

    it('reports a corrupt stored checkpoint as CORRUPT, alone and among others', async () => {
      await store.writePartition(sampleCheckpoint(0, 1), undefined);
      await fixture.corruptPartition(1);
      await expectCheckpointError(store.readPartition(1), 'CORRUPT');
      await expectCheckpointError(store.readAllPartitions(2), 'CORRUPT');
      expect((await store.readPartition(0))?.value).toEqual(sampleCheckpoint(0, 1));
    });

    it('keeps the presence record the last capture reported, and clears it only for that capture', async () => {
      expect(await store.readPresence()).toBeUndefined();
      const presence = (captureId: string, second: number) => ({
        captureId,
        startedAt: new Date(Date.UTC(2026, 10, 21, 13, 0, 0)),
        reportedAt: new Date(Date.UTC(2026, 10, 21, 13, 0, second)),
      });
      await store.writePresence(presence('capture-a', 1));
      await store.writePresence(presence('capture-a', 6));
      expect(await fixture.otherStore.readPresence()).toEqual(presence('capture-a', 6));
      // A capture that started since has reported: the one stopping leaves its record.
      await fixture.otherStore.writePresence(presence('capture-b', 7));
      await store.clearPresence('capture-a');
      expect(await store.readPresence()).toEqual(presence('capture-b', 7));
      await store.clearPresence('capture-b');
      await store.clearPresence('capture-b');
      expect(await store.readPresence()).toBeUndefined();
      // Presence is no checkpoint and no origin.
      expect(await store.readAllPartitions(4)).toEqual(new Map());
      expect(await store.readOrigin()).toBeUndefined();
    });

    it('stores and replaces the resume override, with its exact BSON types', async () => {
      expect(await store.readResumeOverride()).toBeUndefined();
      await store.writeResumeOverride(sampleOverride('overlap', 1));
      await fixture.otherStore.writeResumeOverride(sampleOverride('gap', 2));
      const stored = await store.readResumeOverride();
      expect(stored).toEqual(sampleOverride('gap', 2));
      expect(stored?.to.clusterTime).toBeInstanceOf(Timestamp);
      expect(stored?.from.clusterTime).toBeInstanceOf(Timestamp);
      expect(stored?.to.token?._typeBits).toBeInstanceOf(Binary);
      expect((await store.readResumeOverride())?.to.token).toEqual(
        sampleOverride('gap', 2).to.token,
      );
      expect(await store.readAllPartitions(4)).toEqual(new Map());
    });

    it('clears the resume override only while it is the one stored', async () => {
      await store.writeResumeOverride(sampleOverride('overlap', 1));
      // An operator stored a newer one after capture read the first: clearing the first keeps it.
      await fixture.otherStore.writeResumeOverride(sampleOverride('overlap', 2));
      await store.clearResumeOverride(sampleOverride('overlap', 1));
      expect(await store.readResumeOverride()).toEqual(sampleOverride('overlap', 2));
      // The override as read back (fields in any order) clears it.
      const read = await fixture.otherStore.readResumeOverride();
      if (!read) throw new Error('expected an override');
      await store.clearResumeOverride({
        setAt: read.setAt,
        from: read.from,
        to: read.to,
        kind: read.kind,
      });
      expect(await store.readResumeOverride()).toBeUndefined();
      await store.clearResumeOverride(read);
    });

    it('closes idempotently', async () => {
      await store.close();
      await store.close();
    });
  });
}
