import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../../../e2e/src/chaos/chaos-fault.ts';
import { FaultSchedule } from '../../../e2e/src/chaos/fault-schedule.ts';
import { SeededRandom } from '../../../e2e/src/chaos/seeded-random.ts';

const SETTING = { dataPartitions: [1, 2, 4, 5, 6, 7] };

function kinds(seed: number, rounds: number): string[] {
  const schedule = new FaultSchedule(seed, SETTING);
  return Array.from({ length: rounds }, () => schedule.next().kind);
}

describe('the chaos schedule', () => {
  it('plans the same faults in the same order for the same seed, so a run replays', () => {
    expect(kinds(20_260_101, 50)).toEqual(kinds(20_260_101, 50));
  });

  it('plans differently for another seed', () => {
    expect(kinds(1, 50)).not.toEqual(kinds(2, 50));
  });

  it('meets every fault kind once in each run of seven rounds', () => {
    const planned = kinds(7, 21);
    for (let block = 0; block < 3; block += 1)
      expect(new Set(planned.slice(block * 7, block * 7 + 7))).toEqual(new Set(FAULT_KINDS));
  });
});

describe('the seeded random generator', () => {
  it('draws integers within the bounds, both ends included', () => {
    const random = new SeededRandom(99);
    const drawn = new Set(Array.from({ length: 500 }, () => random.int(3, 6)));
    expect([...drawn].sort()).toEqual([3, 4, 5, 6]);
  });

  it('refuses a seed that is not an unsigned 32-bit integer', () => {
    expect(() => new SeededRandom(-1)).toThrow(RangeError);
    expect(() => new SeededRandom(2 ** 32)).toThrow(RangeError);
    expect(() => new SeededRandom(1.5)).toThrow(RangeError);
  });
});
