import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CheckpointStore,
  type GapReport,
  createLakeCheckpointStore,
} from '@tributary/checkpoint';
import { formatOrderingKey } from '@tributary/core';
import { createLakeFromConfig } from '@tributary/lake';
import { type PartitionClaims, createTransportFromConfig } from '@tributary/queue';
import { type PrivateRedis, startPrivateRedis } from '@tributary/testing';
import { Timestamp } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/commands.ts';
import { runCli } from '../src/run-cli.ts';
import type { StatusReport } from '../src/status/status-report.ts';
import { runTributary } from './run-tributary.ts';

const PARTITIONS = 2;
const nowSeconds = Math.floor(Date.now() / 1000);
const key = (seconds: number) => formatOrderingKey({ t: seconds, i: 1, n: 0 });

/**
 * `tributary status` against a Redis of its own (BullMQ) and a local lake
 * holding the checkpoints, as an operator would run it next to the services.
 */
describe('tributary status', () => {
  let redis: PrivateRedis;
  let dir: string;
  let env: Record<string, string>;
  let store: CheckpointStore;
  let claims: PartitionClaims | undefined;
  const closing: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    dir = await mkdtemp(join(tmpdir(), 'tributary-status-'));
    env = {
      TRIBUTARY_TRANSPORT: 'bullmq',
      REDIS_URL: redis.url,
      TRIBUTARY_QUEUE_NAME: 'status',
      TRIBUTARY_PARTITION_COUNT: String(PARTITIONS),
      TRIBUTARY_LAKE: 'local',
      TRIBUTARY_LAKE_DIR: dir,
    };
    const lake = await createLakeFromConfig({ lake: 'local', lakeDir: dir });
    store = createLakeCheckpointStore({ lake });
    closing.push(
      () => lake.close(),
      () => store.close(),
    );
    await store.writeOriginIfAbsent({
      startAtOperationTime: new Timestamp({ t: nowSeconds - 60, i: 1 }),
      createdAt: new Date(),
    });
    for (let partition = 0; partition < PARTITIONS; partition += 1) {
      await store.writePartition(
        {
          partition,
          position: { key: key(nowSeconds - 2), token: { _data: 'not-a-timestamp-token' } },
          openFiles: [],
          writerId: 'w-earlier',
          updatedAt: new Date(),
        },
        undefined,
      );
    }
    // A writer holding every partition, as the services' writers do.
    const transport = createTransportFromConfig({
      transport: 'bullmq',
      redisUrl: redis.url,
      queueName: 'status',
      partitionCount: PARTITIONS,
    });
    closing.push(() => transport.close());
    claims = transport.claims({ writerId: 'w-now' });
    await claims.start({ gained: () => undefined, lost: () => undefined });
  });

  afterAll(async () => {
    await claims?.stop();
    for (const close of closing.reverse()) await close();
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows owners, checkpoints and lag, with exit code 0 when all is well', async () => {
    const run = await runTributary(['status', '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = run.json<StatusReport>();
    expect(report.partitions.map((p) => [p.owner?.writerId, p.lastCheckpointBy])).toEqual([
      ['w-now', 'w-earlier'],
      ['w-now', 'w-earlier'],
    ]);
    expect(report.partitions[0]?.checkpoint?.key).toBe(key(nowSeconds - 2));
    expect(report.partitions[0]?.lagMs).toBeGreaterThanOrEqual(2000);
    expect(report.transport).toEqual({
      name: 'bullmq',
      partitionCount: 2,
      backlog: 0,
      deadLetters: 0,
    });
    expect(report.capture.resumePoint).toMatchObject({
      from: 'checkpoint',
      key: key(nowSeconds - 2),
    });
    const table = await runTributary(['status'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ +1 +w-now +\d{10}-\d{10}-\d{10} /m);
  });

  it('redraws with --watch until interrupted, and exits with the last round’s code', async () => {
    const gap: GapReport = {
      partition: 1,
      afterKey: key(nowSeconds - 2),
      generation: 2,
      missingUpTo: key(nowSeconds - 1),
      writerId: 'w-now',
      reportedAt: new Date(),
    };
    await store.reportGap(gap);
    const interrupt = new AbortController();
    let stdout = '';
    const rounds = () =>
      stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as StatusReport);
    const running = runCli(
      ['status', '--json', '--watch', '0.5'],
      {
        env,
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: () => true },
        signal: interrupt.signal,
      },
      COMMANDS,
    );
    await until('a round showing the gap', () => rounds().some((r) => r.warnings.length > 0));
    await store.clearGap(gap);
    await until('a round without it', () => rounds().at(-1)?.warnings.length === 0);
    interrupt.abort();
    expect(await running).toBe(0);
    expect(rounds()[0]?.warnings.map((w) => w.kind)).toEqual(['gap']);
  });

  it('refuses a bad --watch interval, or a number without --watch, as a usage error', async () => {
    for (const argv of [
      ['status', '--watch', 'soon'],
      ['status', '5'],
      ['status', '--watch', '0'],
    ]) {
      const run = await runTributary(argv, env);
      expect(run.code).toBe(64);
      expect(run.stdout).toBe('');
    }
  });
});

/** Polls `check` until it holds, or fails naming `what` after 10 s. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
