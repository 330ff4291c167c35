import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import { ChaosDeployment } from './chaos-deployment.ts';
import type { FaultOutcome } from './chaos-fault.ts';
import {
  type ChaosReport,
  FaultTimings,
  countsOf,
  duration,
  passes,
  reportLines,
} from './chaos-report.ts';
import { ChaosWorkload, dataPartitions } from './chaos-workload.ts';
import { DeadLetterCensus } from './dead-letter-census.ts';
import { FaultSchedule } from './fault-schedule.ts';
import { PartitionProgress } from './partition-progress.ts';
import type { ChaosTransport } from './queues/chaos-queue.ts';
import { settle } from './settle.ts';
import { Teardown } from './teardown.ts';

/** How a chaos run goes. */
export interface ChaosOptions {
  readonly rounds: number;
  /** Plans the whole schedule; printed first so a failed run can be replayed. */
  readonly seed: number;
  /** How long each round runs after its fault was injected (and what it killed restarted). */
  readonly roundMs: number;
  readonly writers: number;
  /** The durable queue under fire (default BullMQ). */
  readonly transport?: ChaosTransport;
  /** Leave the run's directory (ADLS data, every process's log) for diagnosis. */
  readonly keep: boolean;
  /** Pause between load steps (about 8 change events each). */
  readonly loadPauseMs?: number;
  /** Longest wait for the lake once the load stopped. */
  readonly settleTimeoutMs?: number;
  /** Where progress lines go (the seed first, the verdict last). */
  readonly print: (line: string) => void;
  /**
   * Ends the run early — between rounds, or while it waits — closing
   * everything, with the signal's reason (a test's teardown after a timeout).
   */
  readonly signal?: AbortSignal;
}

/** As the e2e pipeline runs: enough partitions to spread over three writers. */
const PARTITION_COUNT = 8;
/** How long the pipeline may take to checkpoint every partition before the first round. */
const WARM_UP_TIMEOUT_MS = 60_000;

/**
 * A randomized chaos run: the whole pipeline as real processes under a
 * steady mixed load; each round one fault from the seeded schedule, then
 * the round runs on; at the end the load stops, the lake is waited for and
 * compared with the emulator's oplog, and dead letters are counted. Returns
 * the report (its `passed` says whether every count is 0); rejects only
 * when the harness could not run at all. Everything it opened is closed
 * before it returns or rejects.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const { print, rounds, seed } = options;
  const startedAt = new Date();
  print(
    `chaos: seed ${seed} on ${options.transport ?? 'bullmq'} — replay with: npm run chaos -- --rounds ${rounds} --seed ${seed} --round-ms ${options.roundMs} --writers ${options.writers} --transport ${options.transport ?? 'bullmq'}`,
  );
  const teardown = new Teardown();
  try {
    const dataDir = teardown.add(
      'the run directory',
      await mkdtemp(join(tmpdir(), 'tributary-chaos-')),
      (dir) =>
        options.keep
          ? print(`kept the run's data and logs in ${dir}`)
          : rm(dir, { recursive: true, force: true }),
    );
    const deployment = teardown.add(
      'the deployment',
      await ChaosDeployment.start({
        writers: options.writers,
        partitionCount: PARTITION_COUNT,
        dataDir,
        seed,
        ...(options.transport ? { transport: options.transport } : {}),
      }),
      (d) => d.close(),
    );
    const deadLetters = new DeadLetterCensus(deployment.queue);
    await deployment.startAll();
    // The load starts once capture fixed its start point: what came before is rightly not captured.
    const workload = teardown.add(
      'the load',
      new ChaosWorkload(deployment.client, { pauseMs: options.loadPauseMs ?? 100 }),
      (w) => w.stop(),
    );
    await untilEveryPartitionCheckpointed(deployment);
    print(
      `pipeline up: capture, ${deployment.writerNames.join(', ')}; ${PARTITION_COUNT} partitions, load on ${dataPartitions(PARTITION_COUNT).join(', ')}; data in ${dataDir}`,
    );

    const schedule = new FaultSchedule(seed, { dataPartitions: dataPartitions(PARTITION_COUNT) });
    const timings = new FaultTimings();
    const progress = new PartitionProgress();
    const crashes: string[] = [];
    const unhealedGaps: string[] = [];
    const harnessErrors: string[] = [];
    let roundsRun = 0;
    for (let round = 1; round <= rounds; round += 1) {
      options.signal?.throwIfAborted();
      const label = `round ${round}`;
      const fault = schedule.next();
      const started = Date.now();
      let outcome: FaultOutcome;
      try {
        outcome = await fault.inject({ deployment, deadLetters, label });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        harnessErrors.push(`${label} (${fault.kind}): ${message}`);
        outcome = { summary: `${fault.kind}: the harness failed: ${message}`, landed: false };
      }
      const ms = Date.now() - started;
      timings.record(fault.kind, outcome.landed, ms);
      if (outcome.unhealedGap !== undefined) unhealedGaps.push(`${label}: ${outcome.unhealedGap}`);
      print(`round ${round}/${rounds}: ${outcome.summary} [${duration(ms)}]`);
      await pause(options.roundMs, undefined, { signal: options.signal });
      roundsRun = round;
      if (workload.failure !== undefined)
        throw new Error('the load failed; the run tests nothing more', { cause: workload.failure });
      for (const crash of await deployment.restartCrashed()) {
        crashes.push(`${label}: ${crash}`);
        print(`  ! ${crash}; restarted`);
      }
      for (const letter of await deadLetters.sample(label))
        print(`  ! dead letter on partition ${letter.partition}: ${letter.reason.slice(0, 200)}`);
      for (const note of await progress.observe(deployment, label)) print(`  ! ${note}`);
    }

    await workload.stop();
    if (workload.failure !== undefined)
      throw new Error('the load failed', { cause: workload.failure });
    print(
      `load stopped after ${workload.steps} steps (${workload.transactions} transactions); waiting for the lake to become complete and quiet…`,
    );
    const settled = await settle(deployment, {
      timeoutMs: options.settleTimeoutMs ?? 180_000,
      quietMs: 6_000,
      stallMs: 30_000,
      signal: options.signal,
    });
    await deadLetters.sample('the end');
    for (const crash of await deployment.restartCrashed()) crashes.push(`at the end: ${crash}`);
    const counts = countsOf(settled, deadLetters.all, unhealedGaps, harnessErrors);
    const report: ChaosReport = {
      seed,
      transport: options.transport ?? 'bullmq',
      rounds,
      roundsRun,
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
      counts,
      passed: passes(counts),
      timings: timings.all,
      deadLetters: deadLetters.all,
      crashes,
      unhealedGaps,
      stalls: progress.stalls,
      harnessErrors,
      settled,
      produced: settled.audit.produced,
      loadSteps: workload.steps,
    };
    for (const line of reportLines(report)) print(line);
    return report;
  } finally {
    await teardown.run();
  }
}

/** Waits until every partition has a stored checkpoint: the pipeline is running end to end. */
async function untilEveryPartitionCheckpointed(deployment: ChaosDeployment): Promise<void> {
  const started = Date.now();
  while ((await deployment.checkpoints()).size < deployment.partitionCount) {
    if (Date.now() - started > WARM_UP_TIMEOUT_MS)
      throw new Error(`not every partition had a checkpoint after ${WARM_UP_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
