import { formatOrderingKey } from '@tributary/core';
import { describe, expect, it } from 'vitest';
import { PublishedBacklog } from '../src/published-backlog.ts';

/** The ordering key of the `i`-th event of a made-up stream. */
const key = (i: number) => formatOrderingKey({ t: 1_795_266_000, i, n: 0 });

type Step =
  | { readonly publish: readonly [partition: number, key: string] }
  | { readonly cover: readonly [partition: number, checkpointKey: string] }
  | { readonly rewind: number };

interface Case {
  readonly behaviour: string;
  readonly steps: readonly Step[];
  readonly backlog: number;
}

const cases: readonly Case[] = [
  { behaviour: 'is empty before anything is published', steps: [], backlog: 0 },
  {
    behaviour: 'counts every batch published while no checkpoint exists',
    steps: [{ publish: [0, key(1)] }, { publish: [1, key(2)] }, { publish: [0, key(3)] }],
    backlog: 3,
  },
  {
    behaviour: 'drops the batches at or below the partition’s checkpoint',
    steps: [
      { publish: [0, key(1)] },
      { publish: [0, key(2)] },
      { publish: [0, key(3)] },
      { cover: [0, key(2)] },
    ],
    backlog: 1,
  },
  {
    behaviour: 'keeps a batch whose key is above the checkpoint',
    steps: [{ publish: [0, key(5)] }, { cover: [0, key(4)] }],
    backlog: 1,
  },
  {
    behaviour: 'covers a partition only with its own checkpoint',
    steps: [{ publish: [0, key(1)] }, { publish: [1, key(2)] }, { cover: [1, key(9)] }],
    backlog: 1,
  },
  {
    behaviour: 'takes an empty checkpoint key as covering nothing',
    steps: [{ publish: [0, key(1)] }, { cover: [0, ''] }],
    backlog: 1,
  },
  {
    behaviour: 'counts a heartbeat as a batch waiting in the queue',
    steps: [{ publish: [2, key(1)] }, { publish: [2, key(4)] }, { cover: [2, key(1)] }],
    backlog: 1,
  },
  {
    behaviour: 'counts a covered heartbeat at its predecessor’s key as covered',
    steps: [
      { publish: [0, key(3)] }, // events
      { publish: [0, key(3)] }, // heartbeat: same key, newer resume token
      { cover: [0, key(3)] },
    ],
    backlog: 0,
  },
  {
    behaviour: 'keeps a heartbeat at its predecessor’s key while the checkpoint is below both',
    steps: [{ publish: [0, key(3)] }, { publish: [0, key(3)] }, { cover: [0, key(2)] }],
    backlog: 2,
  },
  {
    behaviour: 'ignores a checkpoint that went back (a stale read)',
    steps: [
      { publish: [0, key(1)] },
      { publish: [0, key(2)] },
      { cover: [0, key(2)] },
      { publish: [0, key(3)] },
      { cover: [0, key(1)] },
    ],
    backlog: 1,
  },
  {
    behaviour: 'forgets a rewound partition’s batches, which were lost or are re-sent anew',
    steps: [
      { publish: [0, key(1)] },
      { publish: [1, key(2)] },
      { publish: [1, key(3)] },
      { rewind: 1 },
    ],
    backlog: 1,
  },
  {
    behaviour: 'counts what a rewound partition re-sends, though its keys start lower again',
    steps: [
      { publish: [1, key(5)] },
      { publish: [1, key(6)] },
      { rewind: 1 },
      { publish: [1, key(3)] },
      { publish: [1, key(4)] },
      { cover: [1, key(3)] },
    ],
    backlog: 1,
  },
  {
    behaviour: 'forgets nothing of other partitions on a rewind',
    steps: [{ publish: [0, key(1)] }, { publish: [3, key(2)] }, { rewind: 0 }],
    backlog: 1,
  },
];

describe('capture’s published backlog', () => {
  it.each(cases)('$behaviour', ({ steps, backlog }) => {
    const record = new PublishedBacklog(4);
    for (const step of steps) {
      if ('publish' in step) record.published(...step.publish, 0);
      else if ('cover' in step) record.cover(...step.cover);
      else record.rewound(step.rewind);
    }
    expect(record.size).toBe(backlog);
  });

  it('holds nothing once every published batch is covered, however many there were', () => {
    const record = new PublishedBacklog(2);
    for (let i = 1; i <= 10_000; i += 1) record.published(i % 2, key(i), i);
    record.cover(0, key(10_000));
    record.cover(1, key(9_999));
    expect(record.size).toBe(0);
    record.published(0, key(10_002), 10_002);
    expect(record.size).toBe(1);
  });

  it('tells since when a partition’s oldest uncovered batch has waited, and nothing once none is', () => {
    const record = new PublishedBacklog(2);
    expect(record.outstandingSince(0)).toBeUndefined();
    record.published(0, key(1), 100);
    record.published(0, key(2), 200);
    record.published(1, key(3), 300);
    expect(record.outstandingSince(0)).toBe(100);
    record.cover(0, key(1));
    expect(record.outstandingSince(0)).toBe(200);
    record.cover(0, key(2));
    expect(record.outstandingSince(0)).toBeUndefined();
    expect(record.outstandingSince(1)).toBe(300);
    record.rewound(1);
    expect(record.outstandingSince(1)).toBeUndefined();
  });

  it('refuses a partition outside 0…K-1', () => {
    const record = new PublishedBacklog(4);
    expect(() => record.published(4, key(1), 0)).toThrow(RangeError);
    expect(() => record.cover(-1, key(1))).toThrow(RangeError);
  });
});
