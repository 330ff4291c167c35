import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CheckpointStore,
  createLakeCheckpointStore,
  createRedisCheckpointStore,
} from '@tributary/checkpoint';
import { formatOrderingKey } from '@tributary/core';
import { type MongoEmulator, startMongoEmulator } from '@tributary/emulator-mongodb';
import { type Lake, createLocalLake } from '@tributary/lake';
import { redisUrl, requireRedis } from '@tributary/testing';
import { Timestamp } from 'bson';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResumePointReport } from '../src/resume-point/resume-point-report.ts';
import { runTributary } from './run-tributary.ts';

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

/** Capture ran once, and its checkpoints stand at `seconds`. */
async function captureStoppedAt(store: CheckpointStore, seconds: number): Promise<void> {
  await store.writeOriginIfAbsent({
    startAtOperationTime: new Timestamp({ t: seconds - 60, i: 1 }),
    createdAt: new Date(),
  });
  for (const partition of [0, 1])
    await store.writePartition(
      {
        partition,
        position: {
          key: formatOrderingKey({ t: seconds, i: 1, n: 0 }),
          token: { _data: `82${seconds.toString(16)}000000012B0229296E04` },
        },
        openFiles: [],
        writerId: 'w',
        updatedAt: new Date(),
      },
      undefined,
    );
}

/**
 * `tributary resume-point` where capture's history is gone: the source's
 * oplog (the MongoDB emulator) rolled past the checkpoints.
 */
describe('tributary resume-point with MONGODB_URI', () => {
  let mongo: MongoEmulator;
  let dir: string;
  let lake: Lake;
  let store: CheckpointStore;
  let env: Record<string, string>;
  let oplogFirst: number;

  beforeAll(async () => {
    mongo = await startMongoEmulator({ oplogMaxEntries: 5 });
    const client = new MongoClient(mongo.uri);
    await client
      .db('shop')
      .collection<{ _id: number }>('orders')
      .insertMany(Array.from({ length: 8 }, (_, _id) => ({ _id })));
    await client.close();
    oplogFirst = Math.min(...mongo.oplogEntries().map((r) => r.clusterTime.t));
    dir = await mkdtemp(join(tmpdir(), 'tributary-resume-source-'));
    lake = createLocalLake({ rootDir: dir });
    store = createLakeCheckpointStore({ lake });
    await captureStoppedAt(store, oplogFirst - 3600);
    env = {
      TRIBUTARY_TRANSPORT: 'bullmq',
      REDIS_URL: 'redis://127.0.0.1:1',
      TRIBUTARY_PARTITION_COUNT: '2',
      TRIBUTARY_LAKE: 'local',
      TRIBUTARY_LAKE_DIR: dir,
      MONGODB_URI: mongo.uri,
    };
  });
  afterAll(async () => {
    await store?.close();
    await lake?.close();
    await mongo?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // The oplog's newest entry is now: a point one second after its oldest is not in the future.
  const later = () => (oplogFirst + 2) * 1000;

  it('shows the oplog window, the resume point fallen out of it, and how to accept the gap', async () => {
    const json = await runTributary(['resume-point', 'show', '--json'], env, { now: later });
    expect(json.code).toBe(0);
    const report = json.json<ResumePointReport>();
    expect(Date.parse(report.oplog?.first ?? '')).toBe(oplogFirst * 1000);
    expect(report.oplog?.headroomPercent).toBeLessThan(0);
    const text = await runTributary(['resume-point', 'show'], env, { now: later });
    expect(text.stdout).toContain('the history capture needs is gone');
    expect(text.stdout).toContain(
      `tributary resume-point set --time <a time after ${iso(oplogFirst)}>`,
    );
  });

  it('refuses a point MongoDB no longer has, and moves to one it has', async () => {
    const refused = await runTributary(
      ['resume-point', 'set', '--time', iso(oplogFirst - 60), '--yes'],
      env,
      { now: later },
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`is not after the oldest oplog entry (${iso(oplogFirst)})`);
    expect(await readdir(join(dir, '_tributary')).catch(() => [])).not.toContain('markers');
    const moved = await runTributary(
      ['resume-point', 'set', '--time', iso(oplogFirst + 1), '--yes'],
      env,
      { now: later },
    );
    expect(moved.stderr).toBe('');
    expect(moved.code).toBe(0);
    const report = (
      await runTributary(['resume-point', 'show', '--json'], env, { now: later })
    ).json<ResumePointReport>();
    expect(report.resumePoint).toMatchObject({ source: 'override' });
    expect(report.oplog?.headroomPercent).toBeGreaterThanOrEqual(0);
  });
});

describe('tributary resume-point over Redis checkpoints', () => {
  const queueName = `resume-point-${randomUUID().slice(0, 8)}`;
  let dir: string;
  let lake: Lake;
  let store: CheckpointStore;
  let env: Record<string, string>;

  beforeAll(async () => {
    await requireRedis();
    dir = await mkdtemp(join(tmpdir(), 'tributary-resume-redis-'));
    lake = createLocalLake({ rootDir: dir });
    store = createRedisCheckpointStore({
      redisUrl: redisUrl(),
      keyPrefix: `${queueName}:checkpoints:`,
    });
    env = {
      TRIBUTARY_TRANSPORT: 'bullmq',
      REDIS_URL: redisUrl(),
      TRIBUTARY_QUEUE_NAME: queueName,
      TRIBUTARY_PARTITION_COUNT: '2',
      TRIBUTARY_LAKE: 'local',
      TRIBUTARY_LAKE_DIR: dir,
      TRIBUTARY_CHECKPOINT_STORE: 'redis',
    };
  });
  afterAll(async () => {
    await store?.close();
    await lake?.close();
    const admin = new Redis(redisUrl());
    const keys = await admin.keys(`${queueName}:*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses while capture runs, then moves the point: the marker in the lake, the override in Redis', async () => {
    const seconds = Math.floor(Date.now() / 1000) - 3600;
    await captureStoppedAt(store, seconds);
    await store.writePresence({
      captureId: 'capture-redis',
      startedAt: new Date(),
      reportedAt: new Date(),
    });
    const refused = await runTributary(
      ['resume-point', 'set', '--time', iso(seconds + 60), '--yes'],
      env,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Capture capture-redis is running');
    await store.clearPresence('capture-redis');
    const moved = await runTributary(
      ['resume-point', 'set', '--time', iso(seconds + 60), '--yes'],
      env,
    );
    expect(moved.code).toBe(0);
    expect(await readdir(join(dir, '_tributary/markers'))).toHaveLength(1);
    expect((await store.readResumeOverride())?.kind).toBe('gap');
  });
});
