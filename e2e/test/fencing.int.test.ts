import { STATE_PREFIX } from '@tributary/lake';
import { afterEach, expect, it } from 'vitest';
import { expectExactlyOnce } from '../src/exactly-once.ts';
import { Pipeline } from '../src/pipeline.ts';
import { describeOnTransports } from '../src/transports.ts';

/**
 * Every data file's committed bytes. (Not its version: the owner may
 * legitimately close a file of a past hour meanwhile, which moves only that.)
 */
async function snapshot(pipeline: Pipeline): Promise<Map<string, string>> {
  const lake = await pipeline.lake();
  const files = new Map<string, string>();
  for await (const entry of lake.list('')) {
    if (entry.path.startsWith(STATE_PREFIX)) continue;
    files.set(entry.path, Buffer.from(await lake.read(entry.path)).toString('base64'));
  }
  return files;
}

describeOnTransports('a writer that lost its partition while paused', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    for (const process of pipeline?.processes ?? []) {
      if (process.pid !== undefined && process.running)
        globalThis.process.kill(process.pid, 'SIGCONT');
    }
    await pipeline?.close();
    pipeline = undefined;
  });

  it('changes no data file when it wakes after another writer took over, and the lake stays exact', async () => {
    pipeline = await Pipeline.start({ transport, lake: 'adls' });
    const adls = pipeline.requireAdls();
    const orders = pipeline.partitionOfCollection('shop', 'orders');
    await pipeline.startCapture();
    const paused = pipeline.startWriter('w1');
    const load = pipeline.startLoad(30);
    await load.reach(4);
    // Catch w1 inside an append of shop.orders' partition, then freeze it
    // there — past its lease, whatever its clock will say when it wakes.
    const held = adls.faults.add({
      operations: ['path.append'],
      pathContains: `part-${String(orders).padStart(4, '0')}-`,
      latencyMs: 6_000,
      times: 1,
    });
    await until(() => adls.faults.list().some((rule) => rule.id === held && rule.fired === 1));
    if (paused.pid === undefined) throw new Error('w1 has no process id');
    process.kill(paused.pid, 'SIGSTOP');
    const successor = pipeline.startWriter('w2');
    await load.done;

    expectExactlyOnce(await pipeline.waitUntilComplete(90_000));
    const before = await snapshot(pipeline);
    expect(successor.output()).toMatch(
      /found events written after the last checkpoint|partition gained/,
    );
    process.kill(paused.pid, 'SIGCONT');
    await new Promise((r) => setTimeout(r, 6_000));

    expect(await snapshot(pipeline)).toEqual(before);
    expectExactlyOnce(await pipeline.verify());
    expect(paused.output()).toMatch(/partition lost to another writer/);
  }, 150_000);
});

/** Polls `condition` every 20 ms until it holds, or throws after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
