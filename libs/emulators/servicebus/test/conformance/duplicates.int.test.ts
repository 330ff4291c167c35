import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceQueues } from '../support/conformance-entities.ts';
import {
  SETUP_TIMEOUT_MS,
  onEmulator,
  openTarget,
  testTimeout,
  type ConformanceTarget,
} from '../support/conformance-target.ts';

/** The real service's shortest duplicate-detection window is 20 seconds; this emulator's queue has 1 s. */
const WINDOW_MS =
  conformanceQueues(onEmulator)['duplicates']!['dedup']!.duplicateDetectionHistoryTimeWindowMs!;

/**
 * Message ids unique to this run: Microsoft's emulator keeps its queues (and
 * their duplicate-detection history) from one run to the next, and emptying
 * a queue does not clear that history, so a run starting within the window
 * of the last one would see its ids as duplicates.
 */
const RUN = randomBytes(4).toString('hex');
const id = (name: string): string => `${name}-${RUN}`;

describe('duplicate detection through the official SDK', { timeout: testTimeout() }, () => {
  let target: ConformanceTarget;

  beforeAll(async () => {
    target = await openTarget('duplicates');
  }, SETUP_TIMEOUT_MS);
  afterAll(() => target.close(), SETUP_TIMEOUT_MS);

  async function drain(queue: string): Promise<unknown[]> {
    const receiver = target.client.createReceiver(queue, { receiveMode: 'receiveAndDelete' });
    const bodies: unknown[] = [];
    for (;;) {
      const got = await receiver.receiveMessages(10, { maxWaitTimeInMs: 300 });
      if (got.length === 0) return bodies;
      bodies.push(...got.map((m) => m.body));
    }
  }

  it('acknowledges a resent message id within the window and keeps only the first', async () => {
    const queue = target.queue('dedup');
    const sender = target.client.createSender(queue);
    await sender.sendMessages({ body: 'first', messageId: id('order-7') });
    await sender.sendMessages({ body: 'second', messageId: id('order-7') });
    await sender.sendMessages([
      { body: 'third', messageId: id('order-7') },
      { body: 'other', messageId: id('order-8') },
    ]);
    expect(await drain(queue)).toEqual(['first', 'other']);
  });

  it(
    'accepts the same message id again once the window has passed',
    { timeout: testTimeout(WINDOW_MS + 500) },
    async () => {
      const queue = target.queue('dedup');
      const sender = target.client.createSender(queue);
      await sender.sendMessages({ body: 'early', messageId: id('order-9') });
      await sleep(WINDOW_MS + 500);
      await sender.sendMessages({ body: 'late', messageId: id('order-9') });
      expect(await drain(queue)).toEqual(['early', 'late']);
    },
  );

  it('keeps every copy on a queue without duplicate detection', async () => {
    const queue = target.queue('plain');
    const sender = target.client.createSender(queue);
    await sender.sendMessages({ body: 1, messageId: id('same') });
    await sender.sendMessages({ body: 2, messageId: id('same') });
    expect(await drain(queue)).toEqual([1, 2]);
  });
});
