import { createCheckpointStoreFromConfig } from '@tributary/checkpoint';
import { type CaptureConfig, type Logger, SecretRedactor, createLogger } from '@tributary/core';
import { createLakeFromConfig } from '@tributary/lake';
import { createTransportFromConfig } from '@tributary/queue';
import {
  DependencyWaiter,
  EXIT_FAILURE,
  Readiness,
  ResourceStack,
  exitOnSignal,
  type Telemetry,
  handleUnhandledRejections,
  startHealthServer,
  startTelemetry,
  traceFieldsOfActiveSpan,
} from '@tributary/telemetry';
import { MongoClient } from 'mongodb';
import { ChangeCapture } from './change-capture.ts';
import { lakeClaimStager } from './claim-stager.ts';
import { classifyStreamError } from './stream-errors.ts';

/** How long the driver looks for a server before an operation fails (then capture waits and retries). */
const SERVER_SELECTION_TIMEOUT_MS = 10_000;

/**
 * Starts capture from a validated configuration: opens the lake, the
 * checkpoint store and the transport, reads the change stream from the
 * oldest point any partition needs, serves `/healthz`/`/readyz` (503 with
 * the reasons while MongoDB, the queue or the lake fail), and on
 * SIGTERM/SIGINT (also during start-up) publishes what it holds before it
 * exits. A dependency that is down — at start or later — is waited for,
 * with a log line that names it; a fatal error (lost history, a resume
 * point the source no longer has, refused rights) stops the process with
 * exit code 1 and says what to do.
 */
export async function startCapture(config: CaptureConfig, secrets: string[]): Promise<void> {
  const logger = createLogger({
    name: 'capture',
    level: config.logLevel,
    secrets,
    mixin: traceFieldsOfActiveSpan,
  });
  handleUnhandledRejections(logger);
  const resources = new ResourceStack();
  try {
    // The same secrets are kept out of the health endpoint's answers.
    // Telemetry is closed last, so that the spans of the shutdown are exported.
    const telemetry = resources.add(
      'telemetry',
      await startTelemetry({ serviceName: 'tributary-capture', config, logger, secrets }),
    );
    await composeCapture(config, logger, resources, new SecretRedactor(secrets), telemetry);
  } catch (error) {
    // One structured line saying what failed, not an unhandled rejection's stack.
    logger.fatal(
      { err: error },
      error instanceof Error ? error.message : 'capture failed to start',
    );
    await resources.closeAll(logger);
    process.exit(EXIT_FAILURE);
  }
}

async function composeCapture(
  config: CaptureConfig,
  logger: Logger,
  resources: ResourceStack,
  redactor: SecretRedactor,
  telemetry: Telemetry,
): Promise<void> {
  const readiness = new Readiness();
  const state: { capture?: ChangeCapture } = {};
  let running = false;
  const stopping = new AbortController();
  exitOnSignal({
    timeoutMs: config.shutdownTimeoutMs,
    logger,
    shutdown: async () => {
      running = false;
      stopping.abort();
      await state.capture?.stop();
      await resources.closeAll(logger);
    },
  });
  const deps = new DependencyWaiter(readiness, logger, stopping.signal);
  if (config.healthPort > 0) {
    resources.add(
      'health endpoint',
      await startHealthServer({
        port: config.healthPort,
        checks: {
          live: () => true,
          ready: () => [...(running ? [] : ['capture: starting']), ...readiness.reasons()],
        },
        redact: (text) => redactor.redactText(text),
        metrics: telemetry.serveMetrics,
      }),
    );
  }

  // The driver connects on first use, and its monitor tells when the
  // server stops answering between operations.
  const client = resources.add(
    'mongodb',
    new MongoClient(config.mongodbUri, {
      appName: 'tributary-capture',
      // A timeout given in the URI wins (options given here would override it).
      ...(/[?&]serverSelectionTimeoutMS=/i.test(config.mongodbUri)
        ? {}
        : { serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS }),
    }),
  );
  // A connection that fails at start is tried again until MongoDB answers:
  // one log line per run of failures names the host and what to check.
  await deps.untilDone('mongodb', () => client.connect(), classifyStreamError);
  client.on('serverHeartbeatFailed', (event) =>
    readiness.fail(
      'mongodb',
      `MongoDB cannot be reached (no answer from ${event.connectionId}: ${event.failure.name}); check MONGODB_URI, the network, and that the replica set is running`,
    ),
  );
  const lake = resources.add(
    'lake',
    await deps.untilDone('lake', () =>
      createLakeFromConfig(config, {
        onRetry: (error, retry, delayMs) =>
          logger.warn({ err: error, retry, delayMs }, 'lake request failed; retrying'),
      }),
    ),
  );
  const checkpoints = resources.add(
    'checkpoint store',
    createCheckpointStoreFromConfig(config, lake),
  );
  const transport = resources.add(
    'transport',
    createTransportFromConfig(config, {
      // Background failures (a lost Redis connection) are logged here; the
      // publishing path itself waits and retries, pausing the stream.
      onBackgroundError: (error) =>
        logger.warn({ err: error }, 'queue background operation failed'),
      traced: telemetry.tracing,
    }),
  );
  const publisher = resources.add('publisher', transport.publisher());
  // The message limit is final only once the publisher has connected
  // (Service Bus reports a queue's maximum message size over a connection):
  // wait for the queue as for MongoDB and the lake, with readiness saying so.
  await deps.untilDone('queue', () => publisher.ready());
  const batchMaxBytes = Math.min(config.batchMaxBytes, publisher.maxBatchBytes);
  if (batchMaxBytes < config.batchMaxBytes)
    logger.info(
      { configured: config.batchMaxBytes, transportLimit: publisher.maxBatchBytes },
      'batches are cut to the transport’s message limit; larger single events travel by claim check',
    );
  const capture = new ChangeCapture({
    ...config,
    batchMaxBytes,
    client,
    publisher,
    checkpoints,
    claims: lakeClaimStager(lake),
    readiness,
    logger,
    telemetry: {
      tracer: telemetry.tracer,
      meter: telemetry.meter,
      tracing: telemetry.tracing,
      messaging: transport.messaging,
    },
  });
  state.capture = capture;
  running = true;
  logger.info({ scope: config.scope, partitionCount: config.partitionCount }, 'capture started');
  capture.run().catch(async (error: unknown) => {
    if (stopping.signal.aborted) return;
    running = false;
    logger.fatal({ err: error }, error instanceof Error ? error.message : 'capture failed');
    await resources.closeAll(logger);
    process.exit(EXIT_FAILURE);
  });
}
