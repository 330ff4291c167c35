import { describe, expect, it } from 'vitest';
import {
  addRange,
  covers,
  overlaps,
  removeRange,
  stagedBytes,
} from '../../src/store/staged-ranges.ts';

describe('staged ranges', () => {
  it.each([
    { ranges: [], add: [0, 3], expected: [{ start: 0, end: 3 }] },
    {
      ranges: [{ start: 6, end: 9 }],
      add: [0, 3],
      expected: [
        { start: 0, end: 3 },
        { start: 6, end: 9 },
      ],
    },
    {
      ranges: [
        { start: 0, end: 3 },
        { start: 6, end: 9 },
      ],
      add: [3, 6],
      expected: [{ start: 0, end: 9 }],
    },
    { ranges: [{ start: 0, end: 5 }], add: [2, 4], expected: [{ start: 0, end: 5 }] },
  ])('adds $add to $ranges', ({ ranges, add, expected }) => {
    expect(addRange(ranges, add[0] ?? 0, add[1] ?? 0)).toEqual(expected);
  });

  it.each([
    { ranges: [{ start: 0, end: 9 }], from: 0, to: 9, expected: true },
    {
      ranges: [
        { start: 0, end: 3 },
        { start: 3, end: 9 },
      ],
      from: 0,
      to: 9,
      expected: true,
    },
    {
      ranges: [
        { start: 0, end: 3 },
        { start: 4, end: 9 },
      ],
      from: 0,
      to: 9,
      expected: false,
    },
    { ranges: [{ start: 1, end: 9 }], from: 0, to: 9, expected: false },
    { ranges: [{ start: 0, end: 8 }], from: 0, to: 9, expected: false },
    { ranges: [], from: 5, to: 5, expected: true },
  ])('covers [$from, $to) with $ranges: $expected', ({ ranges, from, to, expected }) => {
    expect(covers(ranges, from, to)).toBe(expected);
  });

  it('removes a span, splitting a range around it', () => {
    expect(removeRange([{ start: 0, end: 10 }], 3, 5)).toEqual([
      { start: 0, end: 3 },
      { start: 5, end: 10 },
    ]);
    expect(removeRange([{ start: 0, end: 10 }], 0, 10)).toEqual([]);
  });

  it('detects overlap and counts bytes', () => {
    expect(overlaps([{ start: 0, end: 3 }], 3, 5)).toBe(false);
    expect(overlaps([{ start: 0, end: 3 }], 2, 5)).toBe(true);
    expect(
      stagedBytes([
        { start: 0, end: 3 },
        { start: 5, end: 9 },
      ]),
    ).toBe(7);
  });
});
