import { formatOrderingKey } from '@tributary/core';
import { describe, expect, it } from 'vitest';
import { applyStoredCheckpoint, buildCheckpoint } from '../src/checkpoint-builder.ts';
import { RollingFileSet } from '../src/rolling-file-set.ts';
import { newTrackedFile, type TrackedFile } from '../src/tracked-file.ts';

const key = (i: number) => formatOrderingKey({ t: 1_795_266_000, i, n: 0 });
const limits = { maxFileBytes: 1e9, maxFileAgeMs: 1e9, idleCloseMs: 1e9 };

/** A file with lines 1…n past a checkpointed length of 100, each 10 bytes. */
function fileWith(dir: string, keys: number[], state: Partial<TrackedFile> = {}): TrackedFile {
  const file = {
    ...newTrackedFile(3, dir, key(keys[0] ?? 0), 0),
    checkpointedLength: 100,
    recorded: true,
    ...state,
  };
  keys.forEach((k, i) => file.tail.push({ key: key(k), end: 110 + 10 * i }));
  file.length = 100 + 10 * keys.length;
  return file;
}

describe('the checkpoint builder', () => {
  it('lists every file with the length the position covers, not the length written', () => {
    const a = fileWith('a', [1, 3, 5]);
    const b = fileWith('b', [2, 4]);
    const plan = buildCheckpoint({
      partition: 3,
      writerId: 'w',
      position: { key: key(3), token: {} },
      files: [a, b],
      now: new Date(0),
    });
    expect(plan.checkpoint.openFiles.map((f) => [f.path, f.length])).toEqual([
      [a.path, 120],
      [b.path, 110],
    ]);
    expect(plan.covered.get(a)).toEqual({ length: 120, lines: 2 });
  });

  it('records a finished file as closed, and forgets it only once closed in the lake and covered whole', () => {
    const finished = fileWith('a', [1, 2], { finished: true });
    const closedCovered = fileWith('b', [1], {
      finished: true,
      closeRecorded: true,
      closedInLake: true,
    });
    const closedNotCovered = fileWith('c', [4], {
      finished: true,
      closeRecorded: true,
      closedInLake: true,
    });
    const plan = buildCheckpoint({
      partition: 3,
      writerId: 'w',
      position: { key: key(3), token: {} },
      files: [finished, closedCovered, closedNotCovered],
      now: new Date(0),
    });
    expect(plan.checkpoint.openFiles.map((f) => [f.path, f.closed])).toEqual([
      [finished.path, true],
      [closedNotCovered.path, true],
    ]);
    const files = new RollingFileSet(limits);
    for (const f of [finished, closedCovered, closedNotCovered]) files.addFinished(f);
    applyStoredCheckpoint(plan, files);
    expect(files.tracked()).toEqual([finished, closedNotCovered]);
    expect([finished.closeRecorded, finished.tail.length, finished.checkpointedLength]).toEqual([
      true,
      0,
      120,
    ]);
  });

  it('stores no position before the partition’s first batch, covering nothing past what was checkpointed', () => {
    const fresh = { ...newTrackedFile(3, 'a', key(1), 0), recorded: false };
    const plan = buildCheckpoint({
      partition: 3,
      writerId: 'w',
      position: undefined,
      files: [fresh],
      now: new Date(0),
    });
    expect(plan.checkpoint.position).toBeUndefined();
    expect(plan.checkpoint.openFiles).toEqual([
      expect.objectContaining({ path: fresh.path, length: 0 }),
    ]);
  });
});
