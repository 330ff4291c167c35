import { describe, expect, it } from 'vitest';
import { PartitionLayout } from '../../src/bullmq/partition-layout.ts';

const layout = new PartitionLayout({ queueName: 'orders', prefix: 'tributary', partitionCount: 8 });

describe('PartitionLayout', () => {
  it('names one BullMQ queue per partition', () => {
    expect(layout.partitions().map((p) => layout.queueOf(p))).toEqual([
      'orders-p0',
      'orders-p1',
      'orders-p2',
      'orders-p3',
      'orders-p4',
      'orders-p5',
      'orders-p6',
      'orders-p7',
    ]);
  });

  it.each([
    ['a first generation', 3, 1, 0],
    ['a generation from the clock', 7, 1_764_619_200_000, 42],
    ['partition 0', 0, 5, 9],
  ])(
    'makes a job id without colons from %s and reads its partition back',
    (_, partition, generation, sequence) => {
      const id = layout.jobIdOf(partition, generation, sequence);
      expect(id).not.toContain(':');
      expect(`${parseInt(id, 10)}`).not.toBe(id);
      expect(layout.partitionOfJobId(id)).toBe(partition);
    },
  );

  it('gives different batches different ids and the same batch the same id', () => {
    expect(layout.jobIdOf(1, 2, 3)).toBe(layout.jobIdOf(1, 2, 3));
    expect(layout.jobIdOf(1, 2, 3)).not.toBe(layout.jobIdOf(2, 2, 3));
    expect(layout.jobIdOf(1, 2, 3)).not.toBe(layout.jobIdOf(1, 2, 4));
    expect(layout.jobIdOf(1, 12, 3)).not.toBe(layout.jobIdOf(1, 1, 23));
  });

  it('tells a batch re-sent after a rewind (a new generation) from a stale copy of the same place', () => {
    expect(layout.jobIdOf(1, 7, 0)).not.toBe(layout.jobIdOf(1, 8, 0));
  });

  it.each([['p8.x'], ['x'], [''], ['p-1.x'], ['q1.x']])(
    'finds no partition in the foreign id %j',
    (id) => {
      expect(layout.partitionOfJobId(id)).toBeUndefined();
    },
  );

  it('keeps lease, fence and presence keys out of the queues’ key space', () => {
    const queueKeyPrefix = `tributary:${layout.queueOf(1)}:`;
    for (const key of [
      layout.leaseKey(1),
      layout.fenceKey(1),
      layout.presenceKey(),
      layout.hungerKey(),
    ]) {
      expect(key.startsWith('tributary:orders:')).toBe(true);
      expect(key.startsWith(queueKeyPrefix)).toBe(false);
    }
  });
});
