import type { QueueTransport } from '@tributary/queue';
import { requireRedis } from '@tributary/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXACT } from '../src/exactly-once.ts';
import { Pipeline } from '../src/pipeline.ts';

describe('a poison batch', () => {
  let pipeline: Pipeline | undefined;
  let transport: QueueTransport | undefined;
  beforeAll(() => requireRedis());
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('lands in the dead-letter set with its reason while its partition keeps flowing', async () => {
    pipeline = await Pipeline.start({ lake: 'adls' });
    await pipeline.startCapture();
    pipeline.startWriter('w1');
    transport = pipeline.transport();
    const partition = pipeline.partitionOfCollection('shop', 'orders');
    const load = pipeline.startLoad(20);
    await load.reach(5);
    // Bytes no capture would write, on the partition shop.orders flows through.
    await transport.publisher().publish({
      partition,
      generation: 1,
      sequence: 0,
      body: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
    });
    await load.done;

    const { comparison, inventory } = await pipeline.waitUntilComplete();
    expect(comparison).toMatchObject(EXACT);
    expect(inventory.problems).toEqual([]);
    const deadLetters = await transport.deadLetters().list({ partition });
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.reason).toMatch(/Undecodable change batch: not BSON/);
    // The partition kept flowing: shop.orders events captured after the poison are in the lake.
    const ordersAfter = pipeline.mongo
      .oplogEntries()
      .filter((r) => r.ns.coll === 'orders')
      .slice(-10);
    expect(ordersAfter.every((r) => inventory.tokens.get(r.resumeToken._data) === 1)).toBe(true);
  });
});
