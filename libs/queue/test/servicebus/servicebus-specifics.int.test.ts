import { ServiceBusClient } from '@azure/service-bus';
import { type ServiceBusEmulator, startServiceBusEmulator } from '@tributary/emulator-servicebus';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type DeliveredBatch,
  type PartitionReader,
  type QueueError,
  type QueueTransport,
  isQueueError,
} from '../../src/index.ts';
import { createServiceBusTransport } from '../../src/servicebus/servicebus-transport.ts';
import { eventually } from '../support/eventually.ts';

/**
 * What the Service Bus adapter does beyond the port's conformance suite:
 * how it meets the service's own rules (delivery counts, dead-letter
 * fields, the queue's settings). Each case reads the emulator's record of
 * the queue, not the adapter's.
 */
describe('the Service Bus transport', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    gained.length = 0;
  });

  async function emulatorWith(queues: Record<string, object>): Promise<ServiceBusEmulator> {
    const emulator = await startServiceBusEmulator({ queues });
    cleanups.push(() => emulator.stop());
    return emulator;
  }

  function transportOn(
    emulator: ServiceBusEmulator,
    queueName: string,
    extra: {
      leaseTtlMs?: number;
      operationTimeoutMs?: number;
      onBackgroundError?: (error: QueueError) => void;
    } = {},
  ): QueueTransport {
    const transport = createServiceBusTransport({
      connectionString: emulator.connectionString,
      queueName,
      partitionCount: 1,
      leaseTtlMs: 3000,
      operationTimeoutMs: 2000,
      ...extra,
    });
    cleanups.push(() => transport.close());
    return transport;
  }

  /** Every reader the test's writer gained, in order. */
  const gained: PartitionReader[] = [];

  async function readerOf(transport: QueueTransport): Promise<PartitionReader> {
    const claims = transport.claims({ writerId: 'w1' });
    const before = gained.length;
    await claims.start({ gained: (r) => gained.push(r), lost: () => undefined });
    return eventually('the reader of partition 0', () => gained[before]);
  }

  const session = { requiresSession: true, lockDurationMs: 3000 };
  const body = new TextEncoder().encode('batch');

  it('never counts a delivery for a failure the writer records, so MaxDeliveryCount cannot dead-letter a batch that only met an outage', async () => {
    const emulator = await emulatorWith({ q: { ...session, maxDeliveryCount: 2 } });
    const transport = transportOn(emulator, 'q');
    await transport.publisher().publish({ partition: 0, generation: 1, sequence: 1, body });
    const reader = await readerOf(transport);
    let held = (await reader.next(2000)) as DeliveredBatch;
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      await reader.fail(held, new Error('lake throttled'));
      held = (await reader.next(0)) as DeliveredBatch;
      expect(held.failedAttempts).toBe(attempt);
    }
    expect(emulator.inspectQueue('q')?.counts).toMatchObject({ deadLetter: 0, locked: 1 });
    await reader.ack(held);
    expect(emulator.inspectQueue('q')?.counts).toMatchObject({
      active: 0,
      locked: 0,
      deadLetter: 0,
    });
  });

  it('dead-letters with the reason’s first line as DeadLetterReason, all of it as the description, and the events in the lake', async () => {
    const emulator = await emulatorWith({ q: session });
    const transport = transportOn(emulator, 'q');
    await transport.publisher().publish({ partition: 0, generation: 1, sequence: 1, body });
    const reader = await readerOf(transport);
    const batch = (await reader.next(2000)) as DeliveredBatch;
    const reason = `event 0001763731200-0000000001-0000000003 refused: ${'x'.repeat(300)}\nsecond line`;
    // A whole batch's worth of keys: they travel compressed in one application property.
    const eventsInLake = Array.from(
      { length: 2000 },
      (_, i) => `0001763731200-${String(i).padStart(10, '0')}-0000000000`,
    );
    await reader.deadLetter(batch, { reason, eventsInLake });

    const client = new ServiceBusClient(emulator.connectionString);
    cleanups.push(() => client.close());
    const [raw] = await client.createReceiver('q', { subQueueType: 'deadLetter' }).peekMessages(1);
    expect(raw?.deadLetterReason).toBe(`${reason.split('\n')[0]?.slice(0, 255)}…`);
    expect(raw?.deadLetterErrorDescription).toBe(reason);
    const [listed] = await transport.deadLetters().list();
    expect(listed?.reason).toBe(reason);
    expect(listed?.eventsInLake).toEqual(eventsInLake);
  });

  it('lists the service’s own dead letters with the service’s reason', async () => {
    const emulator = await emulatorWith({ q: { ...session, maxDeliveryCount: 1 } });
    const transport = transportOn(emulator, 'q');
    await transport.publisher().publish({ partition: 0, generation: 1, sequence: 1, body });
    const reader = await readerOf(transport);
    await reader.next(2000);
    // A writer that dies holding the batch: its session lock expires, a delivery is counted.
    emulator.faults.expireLocks('q');
    await eventually('the service to dead-letter it', () =>
      transport
        .deadLetters()
        .count()
        .then((n) => n === 1),
    );
    const [listed] = await transport.deadLetters().list();
    expect(listed).toMatchObject({ id: 'p0.g1.s1', partition: 0, eventsInLake: [] });
    expect(listed?.reason).toMatch(/^MaxDeliveryCountExceeded/);
  });

  it('gives the partition up when an acknowledgement goes unanswered, instead of holding a batch it may have settled', async () => {
    const emulator = await emulatorWith({ q: session });
    const transport = transportOn(emulator, 'q', { operationTimeoutMs: 1000 });
    const publisher = transport.publisher();
    for (const sequence of [1, 2])
      await publisher.publish({ partition: 0, generation: 1, sequence, body });
    const first = await readerOf(transport);
    const b1 = (await first.next(2000)) as DeliveredBatch;
    emulator.faults.delaySettlements(2500, { times: 1 });
    const refused = await first.ack(b1).catch((error: unknown) => error);
    expect(isQueueError(refused) && refused.code).toBe('OWNERSHIP_LOST');
    expect(first.lost.aborted).toBe(true);
    // The next owner (here the same writer, once it owns the partition again)
    // goes on from whatever the queue holds: b1 again if the late settlement
    // did not land, never a partition stuck on b1.
    const second = await eventually('the partition owned again', () =>
      gained.find((reader) => reader !== first && !reader.lost.aborted),
    );
    const drained: string[] = [];
    for (let batch = await second.next(3000); batch; batch = await second.next(1000)) {
      drained.push(batch.id);
      await second.ack(batch);
    }
    expect([['p0.g1.s1', 'p0.g1.s2'], ['p0.g1.s2']]).toContainEqual(drained);
    expect(emulator.inspectQueue('q')?.counts).toMatchObject({ active: 0, locked: 0 });
  });

  it('tells the writer its partition is gone when the session’s link is detached', async () => {
    const emulator = await emulatorWith({ q: session });
    const transport = transportOn(emulator, 'q');
    const reader = await readerOf(transport);
    const waiting = reader.next(5000).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(emulator.faults.detachLinks({ entity: 'q' })).toBeGreaterThan(0);
    const outcome = await waiting;
    expect(isQueueError(outcome) && outcome.code).toBe('OWNERSHIP_LOST');
    expect(reader.lost.aborted).toBe(true);
  });

  it('says a queue that does not exist does not exist, instead of a locked session', async () => {
    const emulator = await emulatorWith({});
    const transport = transportOn(emulator, 'missing');
    const refused = await transport
      .claims({ writerId: 'w1' })
      .start({ gained: () => undefined, lost: () => undefined })
      .catch((error: unknown) => error);
    expect(isQueueError(refused) && refused.code).toBe('UNAVAILABLE');
    expect((refused as Error).message).toMatch(/queue missing does not exist/);
  });

  it('says a queue without sessions needs them, and leaves its messages where they were', async () => {
    const emulator = await emulatorWith({ plain: { lockDurationMs: 3000 } });
    const client = new ServiceBusClient(emulator.connectionString);
    cleanups.push(() => client.close());
    await client.createSender('plain').sendMessages({ body: 'someone else’s' });
    const transport = transportOn(emulator, 'plain');
    const refused = await transport
      .claims({ writerId: 'w1' })
      .start({ gained: () => undefined, lost: () => undefined })
      .catch((error: unknown) => error);
    expect((refused as Error).message).toMatch(/does not require sessions/);
    expect(emulator.inspectQueue('plain')?.counts).toMatchObject({ active: 1, locked: 0 });
  });

  it('renews on a lock shorter than it plans with, says so, and keeps its partitions', async () => {
    const emulator = await emulatorWith({ q: { ...session, lockDurationMs: 600 } });
    const warnings: string[] = [];
    const transport = transportOn(emulator, 'q', {
      leaseTtlMs: 3000,
      onBackgroundError: (error) => warnings.push(error.message),
    });
    const reader = await readerOf(transport);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(reader.lost.aborted).toBe(false);
    expect(warnings.some((w) => /locks sessions for about \d+ ms/.test(w))).toBe(true);
  });
});
