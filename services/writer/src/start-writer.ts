import { hostname } from 'node:os';
import { createCheckpointStoreFromConfig } from '@tributary/checkpoint';
import {
  DEFAULT_BACKOFF,
  type Logger,
  SecretRedactor,
  type WriterConfig,
  createLogger,
} from '@tributary/core';
import { createLakeFromConfig } from '@tributary/lake';
import { createTransportFromConfig } from '@tributary/queue';
import {
  DependencyWaiter,
  EXIT_FAILURE,
  type FailureJudge,
  Readiness,
  ResourceStack,
  exitOnSignal,
  type Telemetry,
  handleUnhandledRejections,
  startHealthServer,
  startTelemetry,
  traceFieldsOfActiveSpan,
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

/** At start-up, a dependency that is not there yet is waited for; anything else stops the writer. */
const waitable: FailureJudge = (error) =>
  classifyFailure(error).class === 'environment'
    ? { kind: 'outage', reason: environmentHint(error) }
    : { kind: 'fatal', error: error instanceof Error ? error : new Error(String(error)) };

/**
 * Starts a writer from a validated configuration: opens the lake, the
 * checkpoint store and the transport, claims partitions, serves
 * `/healthz`/`/readyz` (503 with the reasons while a dependency fails or a
 * partition is stuck), and drains in order on SIGTERM/SIGINT — also when the
 * signal arrives during start-up.
 */
export async function startWriter(config: WriterConfig, secrets: string[]): Promise<void> {
  const logger = createLogger({
    name: 'writer',
    level: config.logLevel,
    secrets,
    mixin: traceFieldsOfActiveSpan,
  });
  handleUnhandledRejections(logger);
  const resources = new ResourceStack();
  try {
    // The same secrets are kept out of the health endpoint's answers.
    // Telemetry is closed last, so that the spans of the drain are exported.
    const telemetry = resources.add(
      'telemetry',
      await startTelemetry({ serviceName: 'tributary-writer', config, logger, secrets }),
    );
    await composeWriter(config, logger, resources, new SecretRedactor(secrets), telemetry);
  } catch (error) {
    // One structured line saying what failed, not an unhandled rejection's stack.
    logger.fatal(
      { err: error },
      error instanceof Error ? error.message : 'the writer failed to start',
    );
    await resources.closeAll(logger);
    process.exit(EXIT_FAILURE);
  }
}

async function composeWriter(
  config: WriterConfig,
  logger: Logger,
  resources: ResourceStack,
  redactor: SecretRedactor,
  telemetry: Telemetry,
): Promise<void> {
  const writerId = config.writerId ?? `${hostname()}-${process.pid}`;
  const stopping = new AbortController();
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
      stopping.abort();
      await state.service?.stop();
      await resources.closeAll(logger);
    },
  });

  const waiter = new DependencyWaiter(readiness, logger, stopping.signal);
  if (config.healthPort > 0) {
    resources.add(
      'health endpoint',
      await startHealthServer({
        port: config.healthPort,
        checks: { live: () => true, ready },
        redact: (text) => redactor.redactText(text),
        metrics: telemetry.serveMetrics,
      }),
    );
  }
  const lake = watchDependency(
    resources.add(
      'lake',
      await waiter.untilDone(
        'lake',
        () =>
          createLakeFromConfig(config, {
            // The adapter retries a failing request for up to a minute before
            // it gives up: readiness says so from the first retry.
            onRetry: (error, retry, delayMs) => {
              readiness.fail('lake', environmentHint(error));
              logger.warn({ err: error, retry, delayMs }, 'lake request failed; retrying');
            },
          }),
        waitable,
      ),
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
      traced: telemetry.tracing,
    }),
  );
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
    onQueueFailure: (reason) => {
      queueFailedAt = Date.now();
      queueFailure = reason;
    },
    logger,
    telemetry: { tracer: telemetry.tracer, meter: telemetry.meter, tracing: telemetry.tracing },
  });
  state.service = service;
  await waiter.untilDone('queue', () => service.start(), waitable);
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
