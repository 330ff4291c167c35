import { afterEach, expect, it } from 'vitest';
import { tributary } from '../src/operator.ts';
import { Pipeline } from '../src/pipeline.ts';
import { describeOnTransports } from '../src/transports.ts';

/** The parts of `tributary status --json` this test reads. */
interface Status {
  readonly partitions: readonly {
    readonly partition: number;
    readonly owner: { readonly writerId: string } | null;
    readonly lastCheckpointBy: string | null;
    readonly lagMs: number | null;
  }[];
  readonly warnings: readonly { readonly kind: string }[];
}

/** One `tributary status --json` with the pipeline's own settings. */
async function status(pipeline: Pipeline): Promise<{ code: number; report: Status }> {
  const run = await tributary(pipeline.env, ['status', '--json']);
  if (run.code !== 0 && run.code !== 1)
    throw new Error(`status failed (${run.code}): ${run.stderr}`);
  return { code: run.code, report: run.json<Status>() };
}

/** Runs `status` until `accept` holds for it, or fails with the last report after `ms`. */
async function statusUntil(
  pipeline: Pipeline,
  what: string,
  accept: (report: Status, code: number) => boolean,
  ms = 20_000,
): Promise<Status> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { code, report } = await status(pipeline);
    if (accept(report, code)) return report;
    if (Date.now() > deadline)
      throw new Error(`status never showed ${what}: ${JSON.stringify(report.partitions)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describeOnTransports('tributary status', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('shows the lag of a partition grow while its writer is stopped, and shrink once a writer holds it again', async () => {
    pipeline = await Pipeline.start({ transport, lake: 'local', partitionCount: 4 });
    const p = pipeline;
    await p.startCapture();
    const first = p.startWriter('w1');
    const orders = p.client.db('shop').collection('orders');
    const loaded = p.partitionOfCollection('shop', 'orders');
    const line = (report: Status) => report.partitions[loaded];
    await orders.insertMany(Array.from({ length: 20 }, (_, n) => ({ n })));
    await statusUntil(p, 'w1 holding the loaded partition, caught up', (report, code) => {
      const at = line(report);
      return code === 0 && at?.owner?.writerId === 'w1' && (at.lagMs ?? Infinity) < 2000;
    });

    await first.stop();
    await orders.insertMany(Array.from({ length: 20 }, (_, n) => ({ n, late: true })));
    const stopped = await statusUntil(p, 'the partition without an owner', (report) => {
      const at = line(report);
      return at?.owner === null && at.lagMs !== null;
    });
    expect(line(stopped)?.lastCheckpointBy).toBe('w1');
    const lagStopped = line(stopped)?.lagMs ?? 0;
    const grown = await statusUntil(
      p,
      'the lag growing',
      (report) => (line(report)?.lagMs ?? 0) > lagStopped + 1000,
    );
    // Nobody takes the batches that wait: a warning, exit code 1.
    expect(grown.warnings.map((w) => w.kind)).toContain('unowned');
    const lagGrown = line(grown)?.lagMs ?? 0;

    p.startWriter('w2');
    await statusUntil(p, 'w2 holding it with the lag shrunk, all well', (report, code) => {
      const at = line(report);
      return code === 0 && at?.owner?.writerId === 'w2' && (at.lagMs ?? Infinity) < lagGrown;
    });
  });
});
