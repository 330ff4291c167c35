import { redisUrl, requireRedis } from '@tributary/testing';
import { Redis } from 'ioredis';
import { createBullmqTransport } from '../src/bullmq/bullmq-transport.ts';
import { spawnDoomedWriter } from './support/doomed-writer.ts';
import { PrivateRedis } from './support/private-redis.ts';
import { SeverableLink } from './support/severable-link.ts';
import {
  describeTransportConformance,
  type ConformanceHarness,
  type TransportUnderTest,
} from './transport-conformance.ts';

const LEASE_TTL_MS = 1500;
const MAX_BATCH_BYTES = 256 * 1024;

/** Opens a BullMQ transport on `url` through a link the test can sever. */
async function openBullmq(
  url: string,
  queueName: string,
  partitionCount: number,
): Promise<TransportUnderTest> {
  const target = new URL(url);
  const link = await SeverableLink.open({
    host: target.hostname,
    port: Number(target.port || 6379),
  });
  const relayed = new URL(url);
  relayed.hostname = '127.0.0.1';
  relayed.port = String(link.port);
  const transport = createBullmqTransport({
    redisUrl: relayed.toString(),
    queueName,
    partitionCount,
    leaseTtlMs: LEASE_TTL_MS,
    operationTimeoutMs: 1000,
    pollIntervalMs: 25,
    maxBatchBytes: MAX_BATCH_BYTES,
  });
  return { transport, sever: () => link.sever() };
}

/** Deletes every key of the given namespaces from the shared Redis (their names are unique). */
async function deleteNamespaces(namespaces: readonly string[]): Promise<void> {
  const client = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  try {
    for (const namespace of namespaces) {
      for await (const keys of client.scanStream({
        match: `tributary:${namespace}*`,
        count: 500,
      })) {
        if ((keys as string[]).length > 0) await client.del(...(keys as string[]));
      }
    }
  } finally {
    client.disconnect();
  }
}

async function makeHarness(): Promise<ConformanceHarness> {
  await requireRedis();
  const links: TransportUnderTest[] = [];
  const namespaces = new Set<string>();
  return {
    leaseTtlMs: LEASE_TTL_MS,
    maxBatchBytes: MAX_BATCH_BYTES,
    countsBacklog: true,
    detectsContentsLoss: true,
    async open(namespace, partitionCount) {
      namespaces.add(namespace);
      const opened = await openBullmq(redisUrl(), namespace, partitionCount);
      links.push(opened);
      return opened;
    },
    async openDisposableBroker() {
      const redis = await PrivateRedis.start();
      return {
        open: (namespace, partitionCount) => openBullmq(redis.url, namespace, partitionCount),
        wipe: () => redis.flushAll(),
        stop: () => redis.stop(),
        start: () => redis.restart(),
        close: () => redis.stop(),
      };
    },
    async spawnDoomedWriter(namespace, partitionCount) {
      return spawnDoomedWriter({
        TRANSPORT: 'bullmq',
        REDIS_URL: redisUrl(),
        QUEUE_NAME: namespace,
        PARTITION_COUNT: String(partitionCount),
        LEASE_TTL_MS: String(LEASE_TTL_MS),
      });
    },
    async close() {
      for (const opened of links.splice(0)) await opened.sever();
      await deleteNamespaces([...namespaces]);
    },
  };
}

describeTransportConformance('BullMQ', makeHarness);
