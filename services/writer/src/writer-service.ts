import type { CheckpointStore } from '@tributary/checkpoint';
import { type BackoffPolicy, type JsonFormat, type Logger, eventTimeOfKey } from '@tributary/core';
import type { Lake } from '@tributary/lake';
import type { PartitionClaims, PartitionReader, QueueTransport } from '@tributary/queue';
import type { Readiness } from '@tributary/telemetry';
import { InFlightBudget } from './in-flight-budget.ts';
import { PartitionLoop } from './partition-loop.ts';
import { PartitionWriter } from './partition-writer.ts';
import type { RollLimits } from './rolling-file-set.ts';
import { WriterTelemetry, type WriterTelemetryOptions } from './writer-telemetry.ts';

/** Everything a writer process composes. */
export interface WriterServiceOptions extends RollLimits {
  readonly writerId: string;
  readonly transport: QueueTransport;
  readonly lake: Lake;
  readonly checkpoints: CheckpointStore;
  readonly pathTemplate: string;
  readonly jsonFormat: JsonFormat;
  readonly maxDeliveryAttempts: number;
  readonly maxInFlightBatches: number;
  readonly maxBufferedBytes: number;
  /** The largest batch capture sends (room reserved before each fetch). */
  readonly maxBatchBytes: number;
  readonly backoff: BackoffPolicy;
  readonly readiness: Readiness;
  /** Told when the queue fails under a partition loop. */
  readonly onQueueFailure?: (reason: string) => void;
  /** A partition's gap still open after this long makes the writer not ready (default 30 s). */
  readonly stuckAfterMs?: number;
  readonly pollMs?: number;
  readonly logger: Logger;
  readonly onBatch?: (partition: number, events: number) => void;
  /** Where spans and metrics go (none without). */
  readonly telemetry?: Omit<WriterTelemetryOptions, 'messaging' | 'timeOfKey'>;
}

/** What a writer reports about itself (for metrics and tests). */
export interface WriterStatus {
  readonly partitions: readonly number[];
  /** Partitions waiting for capture to re-send batches lost from the queue. */
  readonly openGaps: number;
  readonly inFlight: { readonly batches: number; readonly bytes: number };
}

/**
 * A writer: takes its share of partitions and runs one {@link PartitionLoop}
 * per owned partition, all under one in-flight budget. Partitions come and
 * go as writers join and leave; one asked back is handed over once its
 * batch in hand is finished.
 */
export class WriterService {
  readonly #o: WriterServiceOptions;
  readonly #loops = new Map<number, PartitionLoop>();
  readonly #budget: InFlightBudget;
  #claims: PartitionClaims | undefined;
  #stopped: Promise<void> | undefined;
  readonly #telemetry: WriterTelemetry | undefined;

  constructor(options: WriterServiceOptions) {
    this.#o = options;
    this.#budget = new InFlightBudget(options.maxInFlightBatches, options.maxBufferedBytes);
    this.#telemetry =
      options.telemetry &&
      new WriterTelemetry(
        {
          ...options.telemetry,
          messaging: options.transport.messaging,
          timeOfKey: (key) => eventTimeOfKey(key).getTime() / 1000,
        },
        {
          owned: () =>
            [...this.#loops.values()].map((loop) => ({
              partition: loop.partition,
              checkpointKey: loop.checkpoint.key,
              checkpointedAt: loop.checkpoint.at,
              gapSince: loop.openGap?.since,
            })),
          inFlight: () => this.#budget.usage,
        },
      );
  }

  /** Partitions this writer runs now. */
  partitions(): number[] {
    return [...this.#loops.keys()].sort((a, b) => a - b);
  }

  status(): WriterStatus {
    return {
      partitions: this.partitions(),
      openGaps: [...this.#loops.values()].filter((loop) => loop.openGap !== undefined).length,
      inFlight: this.#budget.usage,
    };
  }

  /** Starts claiming partitions. */
  async start(): Promise<void> {
    this.#claims = this.#o.transport.claims({ writerId: this.#o.writerId });
    await this.#claims.start({
      gained: (reader) => this.#gained(reader),
      lost: (partition) => this.#o.logger.info({ partition }, 'partition lost'),
    });
  }

  #gained(reader: PartitionReader): void {
    const { logger } = this.#o;
    const partition = reader.partition;
    const telemetry = this.#telemetry;
    // The partition's writer gets the telemetry built from these settings, not the settings.
    const { telemetry: _settings, ...options } = this.#o;
    const writer = new PartitionWriter({
      ...options,
      partition,
      lost: reader.lost,
      ...(telemetry ? { telemetry } : {}),
    });
    const loop = new PartitionLoop(reader, writer, {
      partitionCount: this.#o.transport.partitionCount,
      writerId: this.#o.writerId,
      checkpoints: this.#o.checkpoints,
      maxDeliveryAttempts: this.#o.maxDeliveryAttempts,
      backoff: this.#o.backoff,
      pollMs: this.#o.pollMs ?? 1000,
      budget: this.#budget,
      maxBatchBytes: Math.min(this.#o.maxBatchBytes, this.#o.maxBufferedBytes),
      readiness: this.#o.readiness,
      ...(this.#o.onQueueFailure ? { onQueueFailure: this.#o.onQueueFailure } : {}),
      stuckAfterMs: this.#o.stuckAfterMs ?? 30_000,
      logger,
      ...(this.#o.onBatch ? { onBatch: this.#o.onBatch } : {}),
      ...(telemetry ? { telemetry } : {}),
    });
    this.#loops.set(partition, loop);
    logger.info({ partition }, 'partition gained');
    void loop.run().finally(() => {
      if (this.#loops.get(partition) === loop) this.#loops.delete(partition);
    });
  }

  /**
   * Graceful stop, in order: stop taking batches, finish the batches in hand
   * (write, checkpoint, acknowledge), then give the partitions up so other
   * writers take them at once. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      await Promise.all([...this.#loops.values()].map((loop) => loop.stop()));
      await this.#claims?.stop();
    })();
    return this.#stopped;
  }
}
