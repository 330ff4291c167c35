import { type CheckpointStore, createCheckpointStoreFromConfig } from '@tributary/checkpoint';
import { type CliConfig, DEFAULT_BACKOFF } from '@tributary/core';
import { type Lake, createLakeFromConfig } from '@tributary/lake';
import { type QueueTransport, createTransportFromConfig } from '@tributary/queue';
import { MongoClient } from 'mongodb';
import { CliError } from './cli-error.ts';

/** How long a command waits for a system to answer before it says it cannot reach it. */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The systems a command may use, opened on first use (a command that
 * needs only the lake never contacts the queue) and closed together.
 */
export class Systems {
  readonly #config: CliConfig;
  #lake: Promise<Lake> | undefined;
  #checkpoints: Promise<CheckpointStore> | undefined;
  #transport: QueueTransport | undefined;
  #mongo: Promise<MongoClient> | undefined;

  constructor(config: CliConfig) {
    this.#config = config;
  }

  lake(): Promise<Lake> {
    // No retries: an operator wants the answer (or the reason) now.
    this.#lake ??= createLakeFromConfig(this.#config, {
      retry: { ...DEFAULT_BACKOFF, maxRetries: 3, maxElapsedMs: 5000 },
    });
    return this.#lake;
  }

  checkpoints(): Promise<CheckpointStore> {
    this.#checkpoints ??= this.lake().then((lake) =>
      createCheckpointStoreFromConfig(this.#config, lake),
    );
    return this.#checkpoints;
  }

  transport(): QueueTransport {
    this.#transport ??= createTransportFromConfig(this.#config, {
      // Background failures surface again on the next request, with its reason.
      onBackgroundError: () => undefined,
    });
    return this.#transport;
  }

  /** The source, for commands that compare with it. */
  mongo(): Promise<MongoClient> {
    const uri = this.#config.mongodbUri;
    if (!uri) {
      return Promise.reject(
        new CliError(
          'USAGE',
          'This command reads the source: set MONGODB_URI to the MongoDB deployment capture watches.',
        ),
      );
    }
    this.#mongo ??= MongoClient.connect(uri, {
      serverSelectionTimeoutMS: CONNECT_TIMEOUT_MS,
      appName: 'tributary-cli',
    }).catch((error: unknown) => {
      this.#mongo = undefined;
      throw new CliError(
        'UNAVAILABLE',
        `Cannot reach MongoDB at MONGODB_URI: ${error instanceof Error ? error.message : String(error)}. Check that it runs and that the URI is right.`,
        { cause: error },
      );
    });
    return this.#mongo;
  }

  /** Closes whatever was opened; never throws. */
  async close(): Promise<void> {
    const closing: Promise<unknown>[] = [];
    if (this.#transport) closing.push(this.#transport.close());
    if (this.#checkpoints) closing.push(this.#checkpoints.then((c) => c.close()));
    if (this.#mongo) closing.push(this.#mongo.then((m) => m.close()));
    if (this.#lake) closing.push(this.#lake.then((l) => l.close()));
    await Promise.allSettled(closing);
  }
}
