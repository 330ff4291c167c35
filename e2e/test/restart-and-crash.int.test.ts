import { requireRedis } from '@tributary/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline } from '../src/pipeline.ts';

describe('the pipeline across restarts and crashes', () => {
  let pipeline: Pipeline | undefined;
  beforeAll(() => requireRedis());
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('loses and repeats nothing when capture and writers are stopped gracefully and started again mid-load', async () => {
    pipeline = await Pipeline.start({ lake: 'adls' });
    const capture = await pipeline.startCapture();
    const writers = [pipeline.startWriter('w1'), pipeline.startWriter('w2')];
    const load = pipeline.startLoad(40);
    await load.reach(10);
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

    const { comparison, inventory } = await pipeline.waitUntilComplete();
    expect(comparison).toMatchObject({ missing: [], duplicated: [], unexpected: [] });
    expect(inventory.lines).toBe(comparison.produced);
    expect(inventory.problems).toEqual([]);
  });

  it('loses and repeats nothing when a writer is killed mid-batch and capture is killed, both with SIGKILL', async () => {
    pipeline = await Pipeline.start({ lake: 'adls' });
    // Slow appends keep batches in flight, so the kill lands in the middle of one.
    pipeline.adls?.faults.add({ operations: ['path.append'], latencyMs: 15 });
    await pipeline.startCapture();
    const victim = pipeline.startWriter('w1');
    pipeline.startWriter('w2');
    const load = pipeline.startLoad(40);
    await load.reach(8);
    expect((await victim.kill()).signal).toBe('SIGKILL');
    await load.reach(16);
    const capture = pipeline.processes.find((p) => p.name === 'capture');
    expect((await capture?.kill())?.signal).toBe('SIGKILL');
    await load.reach(24);
    await pipeline.startCapture();
    pipeline.startWriter('w1');
    await load.done;

    const { comparison, inventory } = await pipeline.waitUntilComplete(90_000);
    expect(comparison).toMatchObject({ missing: [], duplicated: [], unexpected: [] });
    expect(inventory.lines).toBe(comparison.produced);
    expect(inventory.problems).toEqual([]);
  });
});
