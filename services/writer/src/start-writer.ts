import { hostname } from 'node:os';
import { createCheckpointStoreFromConfig } from '@tributary/checkpoint';
import { DEFAULT_BACKOFF, type WriterConfig, createLogger } from '@tributary/core';
import { createLakeFromConfig } from '@tributary/lake';
import { createTransportFromConfig } from '@tributary/queue';
import {
  Readiness,
  ResourceStack,
  exitOnSignal,
  startHealthServer,
  watchDependency,
} from '@tributary/telemetry';
import { environmentHint } from './environment-hint.ts';
import { classifyFailure } from './failure-class.ts';
import { WriterService } from './writer-service.ts';

/** Outages of the lake and the checkpoint store are what make a writer not ready. */
const judge = {
  isOutage: (error: unknown) => classifyFailure(error).class === 'environment',
  describe: environmentHint,
};

/**
 * Starts a writer from a validated configuration: opens the lake, the
 * checkpoint store and the transport, claims partitions, serves
 * `/healthz`/`/readyz` (503 with the reasons while a dependency fails or a
 * partition is stuck), and drains in order on SIGTERM/SIGINT — also when the
 * signal arrives during start-up.
 */
export async function startWriter(config: WriterConfig, secrets: string[]): Promise<void> {
  const logger = createLogger({ name: 'writer', level: config.logLevel, secrets });
  const writerId = config.writerId ?? `${hostname()}-${process.pid}`;
  const resources = new ResourceStack();
  const state: { service?: WriterService } = {};
  const readiness = new Readiness();
  let started = false;
  // A failing lease renewal or a lost Redis connection happens in the
  // background; the writer reports the queue missing until it has worked
  // again for a lease TTL.
  let queueFailedAt = 0;
  let queueFailure = '';
  const ready = (): string[] => {
    const reasons = readiness.reasons();
    if (!started) reasons.unshift('writer: starting');
    if (Date.now() - queueFailedAt <= config.leaseTtlMs) reasons.push(`queue: ${queueFailure}`);
    return reasons;
  };
  exitOnSignal({
    timeoutMs: config.shutdownTimeoutMs,
    logger,
    shutdown: async () => {
      started = false;
      await state.service?.stop();
      await resources.closeAll(logger);
    },
  });

  const lake = watchDependency(
    resources.add(
      'lake',
      await createLakeFromConfig(config, {
        // The adapter retries a failing request for up to a minute before
        // it gives up: readiness says so from the first retry.
        onRetry: (error, retry, delayMs) => {
          readiness.fail('lake', environmentHint(error));
          logger.warn({ err: error, retry, delayMs }, 'lake request failed; retrying');
        },
      }),
    ),
    'lake',
    readiness,
    judge,
  );
  const checkpoints = watchDependency(
    resources.add('checkpoint store', createCheckpointStoreFromConfig(config, lake)),
    'checkpoint store',
    readiness,
    judge,
  );
  const transport = resources.add(
    'transport',
    createTransportFromConfig(config, {
      onBackgroundError: (error) => {
        queueFailedAt = Date.now();
        queueFailure = error.message;
        logger.warn({ err: error }, 'queue background operation failed');
      },
    }),
  );
  if (config.healthPort > 0) {
    resources.add(
      'health endpoint',
      await startHealthServer({ port: config.healthPort, checks: { live: () => true, ready } }),
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
    maxDeliveryAttempts: config.maxDeliveryAttempts,
    maxInFlightBatches: config.maxInFlightBatches,
    maxBufferedBytes: config.maxBufferedBytes,
    maxBatchBytes: config.batchMaxBytes,
    backoff: { ...DEFAULT_BACKOFF, maxRetries: Infinity, maxElapsedMs: Infinity },
    readiness,
    logger,
  });
  state.service = service;
  await service.start();
  started = true;
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
