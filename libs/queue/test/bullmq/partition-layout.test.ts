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
    ['an ordering key', 3, '0001763731200-0000000007-0000000000'],
    ['a key with colons', 7, 'a:b:c'],
    ['a key with a dot and spaces', 0, 'x. y'],
    ['an all-digit key', 5, '12345'],
  ])('makes a job id without colons from %s and reads its partition back', (_, partition, key) => {
    const id = layout.jobIdOf(partition, key, key);
    expect(id).not.toContain(':');
    expect(`${parseInt(id, 10)}`).not.toBe(id);
    expect(layout.partitionOfJobId(id)).toBe(partition);
  });

  it('gives different batches different ids and the same batch the same id', () => {
    expect(layout.jobIdOf(1, '', 'a')).toBe(layout.jobIdOf(1, '', 'a'));
    expect(layout.jobIdOf(1, '', 'a')).not.toBe(layout.jobIdOf(2, '', 'a'));
    expect(layout.jobIdOf(1, '', 'a.b')).not.toBe(layout.jobIdOf(1, '', 'a%2Eb'));
  });

  it('tells apart batches that end alike but follow different batches (a re-send after a rewind)', () => {
    expect(layout.jobIdOf(1, 'k1', 'k9')).not.toBe(layout.jobIdOf(1, 'k5', 'k9'));
    expect(layout.jobIdOf(1, 'a.b', 'c')).not.toBe(layout.jobIdOf(1, 'a', 'b.c'));
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
