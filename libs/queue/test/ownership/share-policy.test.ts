import { describe, expect, it } from 'vitest';
import {
  isHungry,
  nextShareStep,
  renewalVerdict,
  searchOffsetOf,
} from '../../src/ownership/share-policy.ts';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('share policy', () => {
  it.each([
    // owned, cooling, K, live, hungry
    [0, 0, 8, 2, true],
    [3, 0, 8, 2, true],
    [4, 0, 8, 2, false],
    [3, 1, 8, 2, false],
    [2, 0, 8, 3, false],
    [1, 0, 8, 3, true],
    [0, 0, 1, 2, false],
    [0, 0, 8, 0, true],
  ])(
    'a writer owning %i (cooling %i) of %i partitions with %i live writers is hungry: %s',
    (owned, cooling, partitionCount, live, hungry) => {
      expect(isHungry({ owned: range(0, owned), cooling, partitionCount, live })).toBe(hungry);
    },
  );

  it.each([
    {
      when: 'alone, it takes every partition',
      input: { owned: [], partitionCount: 8, live: 1, othersHungry: 0 },
      step: { kind: 'acquire', upTo: 8 },
    },
    {
      when: 'owning all with a hungry newcomer, it gives back the highest half',
      input: { owned: range(0, 8), partitionCount: 8, live: 2, othersHungry: 1 },
      step: { kind: 'revoke', partitions: [4, 5, 6, 7] },
    },
    {
      when: 'owning more than its share with nobody hungry, it keeps them',
      input: { owned: range(0, 8), partitionCount: 8, live: 2, othersHungry: 0 },
      step: { kind: 'hold' },
    },
    {
      when: 'below its share, it takes up to its share',
      input: { owned: [0], partitionCount: 8, live: 2, othersHungry: 1 },
      step: { kind: 'acquire', upTo: 4 },
    },
    {
      when: 'at its share with nobody hungry, it takes what is left free',
      input: { owned: range(0, 4), partitionCount: 8, live: 2, othersHungry: 0 },
      step: { kind: 'acquire', upTo: 8 },
    },
    {
      when: 'at its share with another hungry, it leaves the rest to that one',
      input: { owned: range(0, 3), partitionCount: 8, live: 3, othersHungry: 1 },
      step: { kind: 'hold' },
    },
    {
      when: 'owning every partition, nothing is left to take',
      input: { owned: [0, 1], partitionCount: 2, live: 1, othersHungry: 0 },
      step: { kind: 'hold' },
    },
  ])('$when', ({ input, step }) => {
    expect(nextShareStep(input)).toEqual(step);
  });

  it.each([
    ['OWNERSHIP_LOST', 10, 'lost'],
    ['NOT_FOUND', 10, 'lost'],
    ['UNAVAILABLE', 100, 'wait'],
    ['UNAVAILABLE', 500, 'revoke'],
    ['UNAVAILABLE', 999, 'revoke'],
    ['UNAVAILABLE', 1000, 'lost'],
  ] as const)(
    'a renewal failing with %s %i ms after the last renewal of a 1000 ms lease: %s',
    (code, since, verdict) => {
      expect(renewalVerdict(code, since, 1000)).toBe(verdict);
    },
  );

  it('starts different writers at different partitions, the same one always at the same', () => {
    const offsets = ['writer-a', 'writer-b', 'writer-c'].map((id) => searchOffsetOf(id, 16));
    expect(new Set(offsets).size).toBe(3);
    expect(searchOffsetOf('writer-a', 16)).toBe(offsets[0]);
    for (const offset of offsets) expect(offset).toBeGreaterThanOrEqual(0);
  });
});
