import { afterEach, expect, it } from 'vitest';
import { EXACT } from '../src/exactly-once.ts';
import { freePort, probe, untilAnswer } from '../src/health.ts';
import { Pipeline } from '../src/pipeline.ts';
import { describeOnTransports } from '../src/transports.ts';

/** The status of GET `path`, or `undefined` while nothing answers. */
async function statusOf(port: number, path: string): Promise<number | undefined> {
  return (await probe(port, path))?.status;
}

async function untilStatus(port: number, path: string, status: number): Promise<void> {
  await untilAnswer(port, path, (answer) => answer.status === status);
}

describeOnTransports('operating the services', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('serves /healthz and /readyz from capture and writer, and both exit 0 on SIGINT', async () => {
    pipeline = await Pipeline.start({ transport, lake: 'local' });
    const [capturePort, writerPort] = [await freePort(), await freePort()];
    const capture = await pipeline.startCapture({ TRIBUTARY_HEALTH_PORT: String(capturePort) });
    const writer = pipeline.startWriter('w1', { TRIBUTARY_HEALTH_PORT: String(writerPort) });
    for (const port of [capturePort, writerPort]) {
      await untilStatus(port, '/readyz', 200);
      expect(await statusOf(port, '/healthz')).toBe(200);
      expect(await statusOf(port, '/nothing-here')).toBe(404);
    }
    const exits = await Promise.all([capture.stop('SIGINT'), writer.stop('SIGINT')]);
    expect(exits).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
  });

  it('stops hard with exit 1 when draining outlasts TRIBUTARY_SHUTDOWN_TIMEOUT_MS, and the next writer loses and repeats nothing', async () => {
    pipeline = await Pipeline.start({ transport, lake: 'adls' });
    const adls = pipeline.requireAdls();
    await pipeline.startCapture();
    const writer = pipeline.startWriter('w1', { TRIBUTARY_SHUTDOWN_TIMEOUT_MS: '1000' });
    const load = pipeline.startLoad(10);
    await load.reach(3);
    // Every append now takes 20 s: the batch in hand cannot finish in time.
    const slow = adls.faults.add({ operations: ['path.append'], latencyMs: 20_000 });
    while (!adls.faults.list().some((rule) => rule.id === slow && rule.fired > 0))
      await new Promise((r) => setTimeout(r, 20));
    const asked = Date.now();
    const exit = await writer.stop('SIGTERM');
    expect(exit).toEqual({ code: 1, signal: null });
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(writer.output()).toMatch(/"msg":"shutdown deadline passed: stopping now"/);

    adls.faults.remove(slow);
    pipeline.startWriter('w2');
    await load.done;
    const { comparison, inventory } = await pipeline.waitUntilComplete();
    expect(comparison).toMatchObject(EXACT);
    expect(inventory.problems).toEqual([]);
  });
});
