import { randomBytes } from 'node:crypto';
import { CLAIMS_PREFIX } from '@tributary/core';
import type { Lake } from '@tributary/lake';
import { Binary, EJSON, ObjectId } from 'bson';
import { afterEach, expect, it } from 'vitest';
import { expectExactlyOnce } from '../src/exactly-once.ts';
import { Pipeline, linesByToken } from '../src/pipeline.ts';
import { describeOnTransports } from '../src/transports.ts';

/** Service Bus Standard's message limit, which the emulator's queue keeps by default. */
const MESSAGE_LIMIT_BYTES = 256 * 1024;

/** The staged claim-checked events in the lake, now. */
async function stagedClaims(lake: Lake): Promise<string[]> {
  const paths: string[] = [];
  for await (const entry of lake.list(CLAIMS_PREFIX)) paths.push(entry.path);
  return paths;
}

/** Polls the staged claims until `accept` holds, or throws after `timeoutMs`. */
async function untilClaims(
  lake: Lake,
  accept: (paths: string[]) => boolean,
  timeoutMs = 30_000,
): Promise<string[]> {
  const started = Date.now();
  for (;;) {
    const paths = await stagedClaims(lake);
    if (accept(paths)) return paths;
    if (Date.now() - started > timeoutMs)
      throw new Error(`staged claims not as expected after ${timeoutMs} ms: ${paths.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeOnTransports('an event larger than the transport carries in one message', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('arrives whole through a claim check in the lake amid the load, and its staged copy goes once checkpointed', async () => {
    pipeline = await Pipeline.start({
      transport,
      lake: 'adls',
      // Service Bus: the queue's own limit (256 KiB, read by capture from the queue) cuts
      // batches. BullMQ carries 64 MiB, more than a MongoDB document can be: its batches
      // are held to the same size by configuration.
      env: transport === 'bullmq' ? { TRIBUTARY_BATCH_MAX_BYTES: String(MESSAGE_LIMIT_BYTES) } : {},
    });
    const lake = await pipeline.lake();
    const capture = await pipeline.startCapture();
    if (transport === 'servicebus')
      expect(capture.output()).toMatch(/batches are cut to the transport’s message limit/);
    const load = pipeline.startLoad(12);
    await load.reach(3);
    // Two events over the limit, one just over and one several times over, amid the load.
    const orders = pipeline.client.db('shop').collection('orders');
    const large = [MESSAGE_LIMIT_BYTES + 1024, 3 * MESSAGE_LIMIT_BYTES].map((bytes) => ({
      _id: new ObjectId(),
      payload: new Binary(randomBytes(bytes)),
    }));
    for (const document of large) await orders.insertOne(document);
    // No writer yet: the events wait in the lake, each staged under its claim.
    const staged = await untilClaims(lake, (paths) => paths.length === large.length);
    await load.reach(6);
    pipeline.startWriter('w1');
    pipeline.startWriter('w2');
    await load.done;

    expectExactlyOnce(await pipeline.waitUntilComplete(90_000));
    // Each large document in the lake equals the oplog's copy, byte for byte.
    const lines = await linesByToken(lake);
    const ids = new Set(large.map((document) => document._id.toHexString()));
    const inserts = pipeline.mongo
      .oplogEntries()
      .filter((r) => r.operationType === 'insert' && ids.has(String(r.documentKey?._id)));
    expect(inserts).toHaveLength(large.length);
    for (const record of inserts)
      expect(
        EJSON.stringify(lines.get(record.resumeToken._data)?.fullDocument, { relaxed: false }),
      ).toBe(EJSON.stringify(record.fullDocument, { relaxed: false }));
    // The staged copies are removed once a checkpoint covers them.
    expect(staged.every((path) => path.startsWith(`${CLAIMS_PREFIX}/`))).toBe(true);
    await untilClaims(lake, (paths) => paths.length === 0);
    expect(await pipeline.transport().deadLetters().count()).toBe(0);
  });
});
