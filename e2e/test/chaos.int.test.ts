import { redisServerInstalled } from '@tributary/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChaosReport } from '../src/chaos/chaos-report.ts';
import { runChaos } from '../src/chaos/run-chaos.ts';
import { describeOnTransports } from '../src/transports.ts';

/**
 * Seed 30 plans: kill a writer inside an append, lose the whole queue
 * (Redis restarted empty; the Service Bus queue deleted and recreated), kill
 * a writer between checkpoint and acknowledgement, kill capture, kill a
 * writer between flush and checkpoint, lose one queued batch (deleted from
 * Redis; expired on Service Bus) — six of the seven kinds (ADLS 503s alone
 * are left to faults.int.test.ts), with the lost batch last, so no later
 * restart of capture or the queue can refill its gap by accident: the
 * pipeline must notice it on its own.
 */
const SEED = 30;

describeOnTransports('the pipeline under a randomized chaos schedule', (transport) => {
  // A run that outlives its test (a timeout) is ended here: it closes every
  // process, emulator and broker it started before the file is done.
  const abort = new AbortController();
  let running: Promise<ChaosReport> | undefined;
  afterAll(async () => {
    abort.abort(new Error('the chaos test is over'));
    await Promise.allSettled([running]);
  });
  beforeAll(() => {
    if (transport === 'bullmq' && !redisServerInstalled())
      throw new Error(
        'the chaos run on BullMQ needs redis-server on the PATH: it starts its own and restarts it empty on purpose',
      );
  });

  it('loses, repeats, reorders and dead-letters nothing while writers and capture are killed, the queue loses everything and a queued batch is lost', async () => {
    const lines: string[] = [];
    running = runChaos({
      rounds: 6,
      seed: SEED,
      roundMs: 3000,
      writers: 3,
      transport,
      keep: false,
      settleTimeoutMs: 60_000,
      print: (line) => lines.push(line),
      signal: abort.signal,
    });
    const report = await running;
    expect(report.counts, lines.join('\n')).toEqual({
      missing: 0,
      duplicated: 0,
      outOfOrder: 0,
      unexpected: 0,
      falseDeadLetters: 0,
      misplaced: 0,
      lakeProblems: 0,
      unhealedGaps: 0,
      harnessErrors: 0,
    });
    expect(report.settled.audit.produced, lines.join('\n')).toBeGreaterThan(0);
  }, 240_000);
});
