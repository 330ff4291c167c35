import { describe, expect, it } from 'vitest';
import { type PlannedLine, planSegments } from '../src/segment-plan.ts';
import { newTrackedFile, type TrackedFile } from '../src/tracked-file.ts';

const limits = { maxFileBytes: 100, maxFileAgeMs: 1e9, idleCloseMs: 1e9 };
const line = (dir: string, key: string, bytes: number): PlannedLine => ({
  dir,
  key,
  line: `${'x'.repeat(bytes - 1)}\n`,
});
const open = (dir: string, length: number, finished = false): TrackedFile => ({
  ...newTrackedFile(3, dir, 'k0', 0),
  length,
  finished,
});

describe('the segment plan', () => {
  it.each([
    {
      name: 'fills an open file that has room',
      files: { a: open('a', 10) },
      lines: [line('a', 'k1', 30), line('a', 'k2', 30)],
      expected: [{ dir: 'a', toOpen: true, keys: ['k1', 'k2'] }],
    },
    {
      name: 'tops an open file up, then starts a new one named after its first line',
      files: { a: open('a', 50) },
      lines: [line('a', 'k1', 40), line('a', 'k2', 40), line('a', 'k3', 40)],
      expected: [
        { dir: 'a', toOpen: true, keys: ['k1'] },
        { dir: 'a', toOpen: false, firstKey: 'k2', keys: ['k2', 'k3'] },
      ],
    },
    {
      name: 'starts a new file when the open one cannot take even the first line',
      files: { a: open('a', 90) },
      lines: [line('a', 'k1', 40)],
      expected: [{ dir: 'a', toOpen: false, firstKey: 'k1', keys: ['k1'] }],
    },
    {
      name: 'never appends to a finished file',
      files: { a: open('a', 0, true) },
      lines: [line('a', 'k1', 10)],
      expected: [{ dir: 'a', toOpen: false, firstKey: 'k1', keys: ['k1'] }],
    },
    {
      name: 'gives a line longer than the limit a file of its own',
      files: {},
      lines: [line('a', 'k1', 10), line('a', 'k2', 500), line('a', 'k3', 10)],
      expected: [
        { dir: 'a', toOpen: false, firstKey: 'k1', keys: ['k1'] },
        { dir: 'a', toOpen: false, firstKey: 'k2', keys: ['k2'] },
        { dir: 'a', toOpen: false, firstKey: 'k3', keys: ['k3'] },
      ],
    },
    {
      name: 'keeps directories apart, each in change order',
      files: { b: open('b', 0) },
      lines: [line('a', 'k1', 10), line('b', 'k2', 10), line('a', 'k3', 10)],
      expected: [
        { dir: 'a', toOpen: false, firstKey: 'k1', keys: ['k1', 'k3'] },
        { dir: 'b', toOpen: true, keys: ['k2'] },
      ],
    },
  ])('$name', ({ files, lines, expected }) => {
    const byDir = files as Record<string, TrackedFile>;
    const segments = planSegments(lines, (dir) => byDir[dir], limits);
    expect(
      segments.map((s) => ({
        dir: s.dir,
        toOpen: s.file !== undefined && s.file === byDir[s.dir],
        ...(s.file ? {} : { firstKey: s.firstKey }),
        keys: s.keys,
      })),
    ).toEqual(expected);
    for (const segment of segments)
      expect(segment.bytes).toBe(segment.lines.reduce((n, l) => n + Buffer.byteLength(l), 0));
  });
});
