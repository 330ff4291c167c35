import type { CheckpointStore } from '@tributary/checkpoint';
import { type CliConfig, loadCliConfig } from '@tributary/core';
import { type BatchPublisher, QueueError, type QueueTransport } from '@tributary/queue';
import { MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../src/command.ts';
import { readStatus } from '../src/status/read-status.ts';
import type { Systems } from '../src/systems.ts';

const config = (extra: Record<string, string> = {}): CliConfig =>
  loadCliConfig({
    TRIBUTARY_TRANSPORT: 'bullmq',
    REDIS_URL: 'redis://127.0.0.1:1',
    TRIBUTARY_PARTITION_COUNT: '2',
    TRIBUTARY_LAKE: 'local',
    TRIBUTARY_LAKE_DIR: '/nonexistent',
    ...extra,
  });

const checkpoints = {
  readAllPartitions: async () => new Map(),
  readGaps: async () => [],
  readOrigin: async () => undefined,
  readResumeOverride: async () => undefined,
} as unknown as CheckpointStore;

/** A context whose systems answer as given, with no network at all. */
function contextWith(
  cliConfig: CliConfig,
  parts: { transport: Partial<QueueTransport>; mongo?: () => Promise<unknown> },
): CommandContext {
  const systems = {
    transport: () => parts.transport,
    checkpoints: async () => checkpoints,
    mongo: parts.mongo ?? (() => Promise.reject(new Error('not used'))),
  } as unknown as Systems;
  return { config: cliConfig, systems, now: () => 1000 } as unknown as CommandContext;
}

const unreachable = () =>
  Promise.reject(new QueueError('UNAVAILABLE', 'reading the partition leases: Redis failed'));
const publisher = (backlog?: () => Promise<number>) =>
  ({ ...(backlog ? { backlog } : {}) }) as unknown as BatchPublisher;

describe('reading the status', () => {
  it('says the backlog is uncounted where the broker cannot count it, and leaves the oplog unread without MONGODB_URI', async () => {
    const ctx = contextWith(config(), {
      transport: {
        owners: async () => new Map([[0, { writerId: 'w1' }]]),
        deadLetters: () => ({ count: async () => 2 }) as never,
      },
    });
    const inputs = await readStatus(ctx, publisher());
    expect(inputs).toMatchObject({
      now: 1000,
      partitionCount: 2,
      backlog: 'uncounted',
      deadLetters: 2,
      oplog: 'not-configured',
      headroomWarnPercent: 20,
    });
    expect(inputs.owners).toEqual(new Map([[0, { writerId: 'w1' }]]));
  });

  it('reports an unreachable queue as unavailable and a refusal on the oplog as not, reading the rest', async () => {
    const refusal = new MongoServerError({ errmsg: 'not authorized on local', code: 13 });
    const ctx = contextWith(config({ MONGODB_URI: 'mongodb://127.0.0.1:1/?replicaSet=rs0' }), {
      transport: { owners: unreachable, deadLetters: () => ({ count: unreachable }) as never },
      mongo: async () => ({
        db: () => ({
          collection: () => ({ find: () => ({ toArray: () => Promise.reject(refusal) }) }),
        }),
      }),
    });
    const inputs = await readStatus(
      ctx,
      publisher(async () => 7),
    );
    expect(inputs.backlog).toBe(7);
    expect(inputs.owners).toEqual({
      unreadable: 'reading the partition leases: Redis failed',
      unavailable: true,
    });
    expect(inputs.deadLetters).toMatchObject({ unavailable: true });
    expect(inputs.oplog).toEqual({
      unreadable: expect.stringMatching(
        /^not authorized on local \(grant the user read on the local database/,
      ),
      unavailable: false,
    });
  });
});
