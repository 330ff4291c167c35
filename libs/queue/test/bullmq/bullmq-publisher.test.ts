import { describe, expect, it } from 'vitest';
import { isQueueError, type OutgoingBatch } from '../../src/index.ts';
import { resolveBullmqOptions } from '../../src/bullmq/bullmq-options.ts';
import { BullmqPublisher } from '../../src/bullmq/bullmq-publisher.ts';
import { PartitionLayout } from '../../src/bullmq/partition-layout.ts';
import type { PartitionQueues } from '../../src/bullmq/partition-queues.ts';

const options = resolveBullmqOptions({
  redisUrl: 'redis://unused',
  queueName: 'orders',
  partitionCount: 2,
  maxBatchBytes: 8,
});

/** Queues whose `add` settles only when the test says so, recording the order of arrival. */
function controlledQueues() {
  const arrived: string[] = [];
  const pending = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  const queue = {
    add: (_name: string, _data: unknown, opts: { jobId: string }) =>
      new Promise<void>((resolve, reject) => {
        arrived.push(opts.jobId);
        pending.set(opts.jobId, { resolve, reject });
      }),
  };
  const queues = {
    layout: new PartitionLayout(options),
    ready: async () => queue,
  } as unknown as PartitionQueues;
  const settle = async (jobId: string, error?: Error) => {
    for (let i = 0; i < 50 && !pending.has(jobId); i += 1)
      await new Promise((r) => setImmediate(r));
    const call = pending.get(jobId);
    if (!call) throw new Error(`${jobId} never reached Redis`);
    pending.delete(jobId);
    if (error) call.reject(error);
    else call.resolve();
  };
  return { queues, arrived, settle };
}

/** The job id the layout gives the batch `batch(partition, sequence)`. */
const id = (partition: number, sequence: number) =>
  new PartitionLayout(options).jobIdOf(partition, 1, sequence);

const batch = (partition: number, sequence: number): OutgoingBatch => ({
  partition,
  generation: 1,
  sequence,
  body: new Uint8Array([1]),
});

describe('BullmqPublisher', () => {
  it('sends the batches of a partition one after another, in call order', async () => {
    const { queues, arrived, settle } = controlledQueues();
    const publisher = new BullmqPublisher(queues, options, async () => 'epoch');
    const first = publisher.publish(batch(0, 1));
    const second = publisher.publish(batch(0, 2));
    const other = publisher.publish(batch(1, 26));
    await settle(id(1, 26));
    await other;
    expect(arrived).toEqual([id(0, 1), id(1, 26)]);
    await settle(id(0, 1));
    await first;
    await settle(id(0, 2));
    await second;
    expect(arrived).toEqual([id(0, 1), id(1, 26), id(0, 2)]);
  });

  it('fails the publishes queued behind a failed one instead of letting them land after a gap', async () => {
    const { queues, arrived, settle } = controlledQueues();
    const publisher = new BullmqPublisher(queues, options, async () => 'epoch');
    const first = publisher.publish(batch(0, 1));
    const second = publisher.publish(batch(0, 2));
    await settle(id(0, 1), new Error('connection reset'));
    const [a, b] = await Promise.allSettled([first, second]);
    expect(a.status).toBe('rejected');
    expect(b.status === 'rejected' && isQueueError(b.reason) && b.reason.code).toBe('UNAVAILABLE');
    expect(arrived).toEqual([id(0, 1)]);
    const retried = publisher.publish(batch(0, 1));
    await settle(id(0, 1));
    await retried;
    expect(arrived).toEqual([id(0, 1), id(0, 1)]);
  });

  it('refuses a fractional or negative generation or sequence with RangeError', async () => {
    const { queues, arrived } = controlledQueues();
    const publisher = new BullmqPublisher(queues, options, async () => 'epoch');
    await expect(publisher.publish({ ...batch(0, 1), generation: 1.5 })).rejects.toThrow(
      'generation',
    );
    await expect(publisher.publish({ ...batch(0, 1), sequence: -1 })).rejects.toThrow('sequence');
    expect(arrived).toEqual([]);
  });

  it('refuses a body over maxBatchBytes with TOO_LARGE and an unknown partition with RangeError', async () => {
    const { queues, arrived } = controlledQueues();
    const publisher = new BullmqPublisher(queues, options, async () => 'epoch');
    const large = await publisher
      .publish({ ...batch(0, 1), body: new Uint8Array(9) })
      .catch((e: unknown) => e);
    expect(isQueueError(large) && large.code).toBe('TOO_LARGE');
    await expect(publisher.publish(batch(2, 1))).rejects.toThrow(RangeError);
    expect(arrived).toEqual([]);
  });

  it('refuses to publish once closed', async () => {
    const { queues } = controlledQueues();
    const publisher = new BullmqPublisher(queues, options, async () => 'epoch');
    await publisher.close();
    await publisher.close();
    await expect(publisher.publish(batch(0, 1))).rejects.toThrow('closed');
  });
});
