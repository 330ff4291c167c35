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
      when: 'below its share with nobody hungry, it takes up to its share',
      input: { owned: [0], partitionCount: 8, live: 2, othersHungry: 0 },
      step: { kind: 'acquire', upTo: 4 },
    },
    {
      when: 'at its share with nobody hungry, it takes what is left free',
      input: { owned: range(0, 4), partitionCount: 8, live: 2, othersHungry: 0 },
      step: { kind: 'acquire', upTo: 8 },
    },
    {
      when: 'at its share with another hungry, it gives back what is above the floor',
      input: { owned: range(0, 3), partitionCount: 8, live: 3, othersHungry: 1 },
      step: { kind: 'revoke', partitions: [2] },
    },
    {
      when: 'at the floor with another hungry, it leaves the rest to that one',
      input: { owned: range(0, 2), partitionCount: 8, live: 3, othersHungry: 1 },
      step: { kind: 'hold' },
    },
    {
      when: 'hungry itself while another is too, it takes only up to the floor',
      input: { owned: [0], partitionCount: 8, live: 3, othersHungry: 1 },
      step: { kind: 'acquire', upTo: 2 },
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
    [8, 2],
    [8, 3],
    [16, 3],
    [4, 3],
    [16, 5],
    [2, 3],
    [64, 7],
  ])(
    '%i partitions settle evenly over %i writers joining one by one, and nobody stays hungry',
    (partitionCount, writers) => {
      const owned: number[][] = [];
      const cooling: number[][] = [];
      const free = () => range(0, partitionCount).filter((p) => !owned.some((o) => o.includes(p)));
      for (let joined = 1; joined <= writers; joined += 1) {
        owned.push([]);
        cooling.push([]);
        // Rounds of every writer taking its step in turn, as their ticks interleave.
        for (let round = 0; round < 20; round += 1) {
          for (let w = 0; w < joined; w += 1) {
            const hungry = owned.map((o, i) =>
              isHungry({ owned: o, cooling: cooling[i]!.length, partitionCount, live: joined }),
            );
            const step = nextShareStep({
              owned: owned[w]!,
              partitionCount,
              live: joined,
              othersHungry: hungry.filter((h, i) => h && i !== w).length,
            });
            // What a writer gave back it does not take again for a round (its cooldown).
            const wasCooling = cooling[w]!;
            cooling[w] = [];
            if (step.kind === 'revoke') {
              owned[w] = owned[w]!.filter((p) => !step.partitions.includes(p));
              cooling[w] = [...step.partitions];
            } else if (step.kind === 'acquire') {
              const take = free().filter((p) => !wasCooling.includes(p));
              owned[w] = [...owned[w]!, ...take.slice(0, step.upTo - owned[w]!.length)].sort(
                (a, b) => a - b,
              );
            }
          }
        }
        const counts = owned.map((o) => o.length);
        expect(
          counts.reduce((a, b) => a + b, 0),
          `${counts}`,
        ).toBe(partitionCount);
        expect(Math.max(...counts) - Math.min(...counts), `${counts}`).toBeLessThanOrEqual(1);
      }
    },
  );

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
