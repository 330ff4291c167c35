import { afterEach, expect, it } from 'vitest';
import { EXACT } from '../src/exactly-once.ts';
import { Pipeline } from '../src/pipeline.ts';
import { describeOnTransports } from '../src/transports.ts';

describeOnTransports('a poison batch', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('lands in the dead letters with its reason while its partition keeps flowing', async () => {
    pipeline = await Pipeline.start({ transport, lake: 'adls' });
    await pipeline.startCapture();
    pipeline.startWriter('w1');
    const queue = pipeline.transport();
    const partition = pipeline.partitionOfCollection('shop', 'orders');
    const load = pipeline.startLoad(20);
    await load.reach(5);
    // Bytes no capture would write, on the partition shop.orders flows through.
    // (Generation 1 is no capture's: its generations are clock readings.)
    await queue.publisher().publish({
      partition,
      generation: 1,
      sequence: 0,
      body: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
    });
    await load.done;

    const { comparison, inventory } = await pipeline.waitUntilComplete();
    expect(comparison).toMatchObject(EXACT);
    expect(inventory.problems).toEqual([]);
    const deadLetters = await queue.deadLetters().list({ partition });
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.reason).toMatch(/Undecodable change batch: not BSON/);
    // On Service Bus the broker's own record: one message in the queue's dead-letter subqueue.
    if (transport === 'servicebus') expect(pipeline.serviceBusDeadLetters()).toBe(1);
    // The partition kept flowing: shop.orders events captured after the poison are in the lake.
    const ordersAfter = pipeline.mongo
      .oplogEntries()
      .filter((r) => r.ns.coll === 'orders')
      .slice(-10);
    expect(ordersAfter.every((r) => inventory.tokens.get(r.resumeToken._data) === 1)).toBe(true);
  });
});
