import { formatOrderingKey } from '@tributary/core';
import { describe, expect, it } from 'vitest';
import { RollingFileSet, closeReason } from '../src/rolling-file-set.ts';
import { newTrackedFile } from '../src/tracked-file.ts';

const T = 1_795_266_000;
const limits = { maxFileBytes: 1000, maxFileAgeMs: 60_000, idleCloseMs: 10_000 };

describe('rolling files', () => {
  it.each([
    ['age', { openedAt: 0, lastAppendAt: 59_000, length: 10 }, 60_000, 'age'],
    ['idleness', { openedAt: 50_000, lastAppendAt: 50_000, length: 10 }, 60_000, 'idle'],
    ['size', { openedAt: 55_000, lastAppendAt: 59_000, length: 1000 }, 60_000, 'size'],
    ['nothing', { openedAt: 55_000, lastAppendAt: 59_000, length: 999 }, 60_000, undefined],
  ])('closes a file for %s', (_why, state, now, expected) => {
    const file = {
      ...newTrackedFile(0, 'd', formatOrderingKey({ t: T, i: 1, n: 0 }), state.openedAt),
      ...state,
      openedAt: new Date(state.openedAt),
    };
    expect(closeReason(file, now, limits)).toBe(expected);
  });

  it('finishes the file a new one replaces, and files of past hours not just appended to', () => {
    const files = new RollingFileSet(limits);
    const hour13 = newTrackedFile(0, 'a/hour=13', formatOrderingKey({ t: T, i: 1, n: 0 }), 0);
    hour13.length = 5;
    const replaced = newTrackedFile(0, 'b', formatOrderingKey({ t: T, i: 2, n: 0 }), 0);
    const replacement = newTrackedFile(0, 'b', formatOrderingKey({ t: T, i: 3, n: 0 }), 0);
    files.open(hour13);
    files.open(replaced);
    files.open(replacement);
    expect([replaced.finished, replacement.finished]).toEqual([true, false]);
    files.noteEventTime((T + 3600) * 1000);
    expect(files.due(0, new Set([hour13]))).toEqual([]);
    expect(files.due(0)).toEqual([hour13]);
    expect(files.openPaths().sort()).toEqual([hour13.path, replacement.path].sort());
  });
});
