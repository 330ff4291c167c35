import { afterEach, expect, it } from 'vitest';
import { expectExactlyOnce } from '../src/exactly-once.ts';
import { Pipeline } from '../src/pipeline.ts';
import { describeOnTransports } from '../src/transports.ts';

describeOnTransports('the pipeline across restarts and crashes', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('loses and repeats nothing when capture and writers are stopped gracefully and started again mid-load', async () => {
    pipeline = await Pipeline.start({ transport, lake: 'adls' });
    const capture = await pipeline.startCapture();
    const writers = [pipeline.startWriter('w1'), pipeline.startWriter('w2')];
    const load = pipeline.startLoad(40);
    await load.reach(10);
    // A signal that reaches a process before Node has run its first line of
    // code ends it by signal (no exit code): stop the writers once they run.
    await Promise.all(writers.map((w) => w.waitForLog(/"msg":"writer started"/)));
    const exits = await Promise.all([
      capture.stop('SIGTERM'),
      ...writers.map((w) => w.stop('SIGTERM')),
    ]);
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);
    await load.reach(20);
    await pipeline.startCapture();
    pipeline.startWriter('w1');
    pipeline.startWriter('w2');
    await load.done;

    expectExactlyOnce(await pipeline.waitUntilComplete());
    // Capture re-read from the checkpoints: routine recovery, no dead letters.
    expect(await pipeline.transport().deadLetters().count()).toBe(0);
  });

  it('loses and repeats nothing when a writer is killed mid-batch and capture is killed, both with SIGKILL', async () => {
    // Heartbeats only at start: the checkpoint held below must be one that
    // follows a batch's appends, not a heartbeat's.
    pipeline = await Pipeline.start({
      transport,
      lake: 'adls',
      env: { TRIBUTARY_HEARTBEAT_INTERVAL_MS: '600000' },
    });
    const adls = pipeline.requireAdls();
    const orders = pipeline.partitionOfCollection('shop', 'orders');
    await pipeline.startCapture();
    const victim = pipeline.startWriter('w1');
    const load = pipeline.startLoad(40);
    await load.reach(6);
    // Once each collection's file exists, a batch is appends and then one
    // checkpoint (no intent checkpoint before a new file).
    while ((await pipeline.verify()).inventory.files.length < 3)
      await new Promise((r) => setTimeout(r, 100));
    // Hold the next checkpoint the (only) writer stores for shop.orders'
    // partition: the appends of its batch are in the lake, the checkpoint
    // covering them is not — the kill lands exactly between the two.
    const held = adls.faults.add({
      operations: ['path.rename'],
      pathContains: `_tributary/checkpoints/partition-${String(orders).padStart(4, '0')}.json`,
      latencyMs: 120_000,
      times: 1,
    });
    await until(() => adls.faults.list().some((rule) => rule.id === held && rule.fired === 1));
    expect((await victim.kill()).signal).toBe('SIGKILL');
    await load.reach(14);
    const capture = pipeline.processes.find((p) => p.name === 'capture');
    expect((await capture?.kill())?.signal).toBe('SIGKILL');
    await load.reach(22);
    await pipeline.startCapture();
    const successors = [pipeline.startWriter('w2'), pipeline.startWriter('w3')];
    await load.done;

    expectExactlyOnce(await pipeline.waitUntilComplete(90_000));
    // The new owner of the victim's partition found the batch the victim had
    // appended but not checkpointed, and did not write it again.
    const recovered = successors.some((w) =>
      /found events written after the last checkpoint/.test(w.output()),
    );
    expect(recovered, successors.map((w) => w.output().slice(0, 4000)).join('\n---\n')).toBe(true);
    // Capture, killed, re-read from the oldest checkpoint: every batch it
    // re-sent was valid, so no dead letters.
    expect(await pipeline.transport().deadLetters().count()).toBe(0);
  });
});

/** Polls `condition` every 20 ms until it holds, or throws after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
