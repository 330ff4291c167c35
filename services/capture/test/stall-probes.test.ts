import { formatOrderingKey } from '@tributary/core';
import { describe, expect, it } from 'vitest';
import { StallProbes, stallIntervalMs } from '../src/stall-probes.ts';

/** The ordering key of the `i`-th event of a made-up stream. */
const key = (i: number) => formatOrderingKey({ t: 1_795_266_000, i, n: 0 });

const STALL_MS = 5_000;

type Step =
  /** Capture read the partition's checkpoint key at a time. */
  | { readonly read: readonly [partition: number, key: string, now: number] }
  /** Since when each partition's oldest uncovered batch waits (undefined: none), from now on. */
  | { readonly waiting: readonly (number | undefined)[] }
  /** Capture asks which partitions to probe at a time. */
  | { readonly probeAt: number }
  | { readonly rewind: number };

interface Case {
  readonly behaviour: string;
  readonly steps: readonly Step[];
  /** The partitions probed at each `probeAt`, in order. */
  readonly probed: readonly (readonly number[])[];
}

const cases: readonly Case[] = [
  {
    behaviour:
      'probes a partition whose checkpoint stood still for the stall interval while a batch waited',
    steps: [
      { waiting: [0, undefined] },
      { read: [0, key(1), 0] },
      { read: [1, key(1), 0] },
      { probeAt: 4_999 },
      { probeAt: 5_000 },
    ],
    probed: [[], [0]],
  },
  {
    behaviour:
      'never probes a partition without outstanding batches, however long its checkpoint stands',
    steps: [
      { waiting: [undefined, undefined] },
      { read: [0, key(1), 0] },
      { read: [1, '', 0] },
      { probeAt: 600_000 },
    ],
    probed: [[]],
  },
  {
    behaviour:
      'never probes a partition whose checkpoint keeps moving, though its batches wait long',
    steps: [
      { waiting: [0] },
      { read: [0, key(1), 0] },
      { probeAt: 4_000 },
      { read: [0, key(2), 4_000] },
      { probeAt: 8_000 },
      { read: [0, key(3), 8_000] },
      { probeAt: 12_000 },
    ],
    probed: [[], [], []],
  },
  {
    behaviour:
      'waits the stall interval from the oldest outstanding batch, though the checkpoint stood longer',
    steps: [
      { read: [0, key(1), 0] },
      { waiting: [60_000] },
      { probeAt: 64_999 },
      { probeAt: 65_000 },
    ],
    probed: [[], [0]],
  },
  {
    behaviour:
      'probes again at doubling intervals while the checkpoint stands still, at most ten minutes apart, and starts over when it moves',
    steps: [
      { waiting: [0] },
      { read: [0, key(1), 0] },
      { probeAt: 5_000 },
      { read: [0, key(1), 6_000] }, // unchanged
      { probeAt: 14_999 }, // 10 s after the first probe: not yet
      { probeAt: 15_000 },
      { probeAt: 34_999 }, // 20 s after the second
      { probeAt: 35_000 },
      { probeAt: 75_000 }, // 40 s
      { probeAt: 155_000 }, // 80 s
      { probeAt: 315_000 }, // 160 s
      { probeAt: 635_000 }, // 320 s
      { probeAt: 1_234_999 }, // 640 s would be next: capped at 600 s
      { probeAt: 1_235_000 },
      { probeAt: 1_835_000 },
      { read: [0, key(2), 1_900_000] },
      { probeAt: 1_904_999 },
      { probeAt: 1_905_000 },
    ],
    probed: [[0], [], [0], [], [0], [0], [0], [0], [0], [], [0], [0], [], [0]],
  },
  {
    behaviour: 'probes a rewound partition again when what it re-sends stalls too',
    steps: [
      { waiting: [0] },
      { read: [0, '', 0] },
      { probeAt: 5_000 },
      { rewind: 0 },
      { waiting: [undefined] },
      { probeAt: 10_000 },
      { waiting: [11_000] },
      { probeAt: 15_999 },
      { probeAt: 16_000 },
    ],
    probed: [[0], [], [], [0]],
  },
  {
    behaviour: 'never probes a partition before its checkpoint was read',
    steps: [{ waiting: [0] }, { probeAt: 600_000 }],
    probed: [[]],
  },
  {
    behaviour: 'times each partition’s stall by its own checkpoint',
    steps: [
      { waiting: [0, 0] },
      { read: [0, key(1), 0] },
      { read: [1, key(1), 0] },
      { read: [1, key(2), 3_000] },
      { probeAt: 5_000 },
      { probeAt: 8_000 },
    ],
    probed: [[0], [1]],
  },
];

describe('capture’s stall probes', () => {
  it.each(cases)('$behaviour', ({ steps, probed }) => {
    const stalls = new StallProbes(2, STALL_MS);
    let waiting: readonly (number | undefined)[] = [undefined, undefined];
    const seen: number[][] = [];
    for (const step of steps) {
      if ('read' in step) stalls.checkpointRead(...step.read);
      else if ('waiting' in step) waiting = step.waiting;
      else if ('probeAt' in step) seen.push(stalls.probeNow(step.probeAt, (p) => waiting[p]));
      else stalls.rewound(step.rewind);
    }
    expect(seen).toEqual(probed);
  });

  it('refuses a partition outside 0…K-1', () => {
    const stalls = new StallProbes(2, STALL_MS);
    expect(() => stalls.checkpointRead(2, key(1), 0)).toThrow(RangeError);
    expect(() => stalls.rewound(-1)).toThrow(RangeError);
  });
});

describe('the stall interval', () => {
  it.each([
    { behaviour: 'is the heartbeat interval by default', heartbeat: 10_000, expected: 10_000 },
    {
      behaviour: 'spans 25 checkpoint reads, however short the heartbeat interval',
      heartbeat: 100,
      expected: 5_000,
    },
    { behaviour: 'follows a long heartbeat interval', heartbeat: 60_000, expected: 60_000 },
  ])('$behaviour', ({ heartbeat, expected }) => {
    expect(stallIntervalMs(heartbeat, 200)).toBe(expected);
  });
});
