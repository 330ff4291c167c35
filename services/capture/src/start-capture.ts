import { createCheckpointStoreFromConfig } from '@tributary/checkpoint';
import { type CaptureConfig, createLogger } from '@tributary/core';
import { createLakeFromConfig } from '@tributary/lake';
import { createBullmqTransport } from '@tributary/queue';
import { EXIT_FAILURE, ResourceStack, exitOnSignal, startHealthServer } from '@tributary/telemetry';
import { MongoClient } from 'mongodb';
import { ChangeCapture } from './change-capture.ts';

/**
 * Starts capture from a validated configuration: connects to MongoDB, opens
 * the checkpoint store and the transport, reads the change stream from the
 * oldest point any partition needs, serves `/healthz`/`/readyz`, and on
 * SIGTERM/SIGINT (also during start-up) publishes what it holds before it
 * exits. A fatal error (lost history) stops the process with exit code 1
 * and says what to do.
 */
export async function startCapture(config: CaptureConfig, secrets: string[]): Promise<void> {
  const logger = createLogger({ name: 'capture', level: config.logLevel, secrets });
  const resources = new ResourceStack();
  const state: { capture?: ChangeCapture } = {};
  let running = false;
  exitOnSignal({
    timeoutMs: config.shutdownTimeoutMs,
    logger,
    shutdown: async () => {
      running = false;
      await state.capture?.stop();
      await resources.closeAll(logger);
    },
  });

  const client = resources.add(
    'mongodb',
    new MongoClient(config.mongodbUri, { appName: 'tributary-capture' }),
  );
  await client.connect();
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
      // Background failures (a lost Redis connection) are logged here; the
      // publishing path itself waits and retries, pausing the stream.
      onBackgroundError: (error) =>
        logger.warn({ err: error }, 'queue background operation failed'),
    }),
  );
  const publisher = resources.add('publisher', transport.publisher());
  if (config.healthPort > 0) {
    resources.add(
      'health endpoint',
      await startHealthServer({
        port: config.healthPort,
        checks: { live: () => running, ready: () => running },
      }),
    );
  }
  const capture = new ChangeCapture({ ...config, client, publisher, checkpoints, logger });
  state.capture = capture;
  running = true;
  logger.info({ scope: config.scope, partitionCount: config.partitionCount }, 'capture started');
  capture.run().catch(async (error: unknown) => {
    running = false;
    logger.fatal({ err: error }, error instanceof Error ? error.message : 'capture failed');
    await resources.closeAll(logger);
    process.exit(EXIT_FAILURE);
  });
}
