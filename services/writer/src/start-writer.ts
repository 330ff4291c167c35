import { hostname } from 'node:os';
import { createCheckpointStoreFromConfig } from '@tributary/checkpoint';
import { DEFAULT_BACKOFF, type WriterConfig, createLogger } from '@tributary/core';
import { createLakeFromConfig } from '@tributary/lake';
import { createBullmqTransport } from '@tributary/queue';
import { ResourceStack, exitOnSignal, startHealthServer } from '@tributary/telemetry';
import { WriterService } from './writer-service.ts';

/**
 * Starts a writer from a validated configuration: opens the lake, the
 * checkpoint store and the transport, claims partitions, serves
 * `/healthz`/`/readyz`, and drains in order on SIGTERM/SIGINT — also when the
 * signal arrives during start-up.
 */
export async function startWriter(config: WriterConfig, secrets: string[]): Promise<void> {
  const logger = createLogger({ name: 'writer', level: config.logLevel, secrets });
  const writerId = config.writerId ?? `${hostname()}-${process.pid}`;
  const resources = new ResourceStack();
  const state: { service?: WriterService } = {};
  let ready = false;
  // A failing lease renewal or a lost Redis connection happens in the
  // background; it is logged, and the writer reports not-ready until the
  // queue has worked again for a while.
  let queueFailedAt = 0;
  const queueHealthy = () => Date.now() - queueFailedAt > config.leaseTtlMs;
  exitOnSignal({
    timeoutMs: config.shutdownTimeoutMs,
    logger,
    shutdown: async () => {
      ready = false;
      await state.service?.stop();
      await resources.closeAll(logger);
    },
  });

  const lake = resources.add(
    'lake',
    await createLakeFromConfig(config, {
      onRetry: (error, retry, delayMs) =>
        logger.warn({ err: error, retry, delayMs }, 'lake request failed; retrying'),
    }),
  );
  const checkpoints = resources.add(
    'checkpoint store',
    createCheckpointStoreFromConfig(config, lake),
  );
  const transport = resources.add(
    'transport',
    createBullmqTransport({
      redisUrl: config.redisUrl,
      queueName: config.queueName,
      partitionCount: config.partitionCount,
      onBackgroundError: (error) => {
        queueFailedAt = Date.now();
        logger.warn({ err: error }, 'queue background operation failed');
      },
    }),
  );
  if (config.healthPort > 0) {
    resources.add(
      'health endpoint',
      await startHealthServer({
        port: config.healthPort,
        checks: { live: () => true, ready: () => ready && queueHealthy() },
      }),
    );
  }
  const service = new WriterService({
    writerId,
    transport,
    lake,
    checkpoints,
    pathTemplate: config.pathTemplate,
    jsonFormat: config.jsonFormat,
    maxFileBytes: config.maxFileBytes,
    maxFileAgeMs: config.maxFileAgeMs,
    idleCloseMs: config.idleCloseMs,
    leaseTtlMs: config.leaseTtlMs,
    maxDeliveryAttempts: config.maxDeliveryAttempts,
    maxInFlightBatches: config.maxInFlightBatches,
    maxBufferedBytes: config.maxBufferedBytes,
    backoff: { ...DEFAULT_BACKOFF, maxRetries: Infinity, maxElapsedMs: Infinity },
    logger,
  });
  state.service = service;
  await service.start();
  ready = true;
  logger.info(
    {
      writerId,
      partitionCount: config.partitionCount,
      lake: config.lake,
      checkpointStore: config.checkpointStore,
    },
    'writer started',
  );
}
