import type { CheckpointStore } from '@tributary/checkpoint';
import type { BackoffPolicy, JsonFormat, Logger } from '@tributary/core';
import type { Lake } from '@tributary/lake';
import type { PartitionClaims, PartitionReader, QueueTransport } from '@tributary/queue';
import { InFlightBudget } from './in-flight-budget.ts';
import { PartitionLoop } from './partition-loop.ts';
import { PartitionWriter } from './partition-writer.ts';
import type { RollLimits } from './rolling-plan.ts';

/** Everything a writer process composes. */
export interface WriterServiceOptions extends RollLimits {
  readonly writerId: string;
  readonly transport: QueueTransport;
  readonly lake: Lake;
  readonly checkpoints: CheckpointStore;
  readonly pathTemplate: string;
  readonly jsonFormat: JsonFormat;
  readonly leaseTtlMs: number;
  readonly maxDeliveryAttempts: number;
  readonly maxInFlightBatches: number;
  readonly maxBufferedBytes: number;
  readonly backoff: BackoffPolicy;
  readonly pollMs?: number;
  readonly logger: Logger;
  readonly onBatch?: (partition: number, events: number) => void;
}

/**
 * A writer: takes its share of partitions and runs one {@link PartitionLoop}
 * per owned partition, all under one in-flight budget. Partitions come and
 * go as writers join and leave.
 */
export class WriterService {
  readonly #o: WriterServiceOptions;
  readonly #loops = new Map<number, PartitionLoop>();
  readonly #budget: InFlightBudget;
  #claims: PartitionClaims | undefined;
  #stopped: Promise<void> | undefined;

  constructor(options: WriterServiceOptions) {
    this.#o = options;
    this.#budget = new InFlightBudget(options.maxInFlightBatches, options.maxBufferedBytes);
  }

  /** Partitions this writer runs now. */
  partitions(): number[] {
    return [...this.#loops.keys()].sort((a, b) => a - b);
  }

  /** Starts claiming partitions. */
  async start(): Promise<void> {
    this.#claims = this.#o.transport.claims({
      writerId: this.#o.writerId,
      leaseTtlMs: this.#o.leaseTtlMs,
    });
    await this.#claims.start({
      gained: (reader) => this.#gained(reader),
      lost: (partition) => this.#o.logger.info({ partition }, 'partition lost'),
    });
  }

  #gained(reader: PartitionReader): void {
    const { logger } = this.#o;
    const partition = reader.partition;
    const writer = new PartitionWriter({
      ...this.#o,
      partition,
      fencingToken: reader.fencingToken,
      logger,
    });
    const loop = new PartitionLoop(reader, writer, {
      partitionCount: this.#o.transport.partitionCount,
      maxDeliveryAttempts: this.#o.maxDeliveryAttempts,
      backoff: this.#o.backoff,
      pollMs: this.#o.pollMs ?? 1000,
      budget: this.#budget,
      logger,
      onBatch: this.#o.onBatch,
    });
    this.#loops.set(partition, loop);
    logger.info({ partition, fencingToken: reader.fencingToken }, 'partition gained');
    void loop.run().finally(() => {
      if (this.#loops.get(partition) === loop) this.#loops.delete(partition);
    });
  }

  /**
   * Graceful stop, in order: stop taking batches, finish the batches in hand
   * (write, checkpoint, acknowledge), then give the leases up so other
   * writers take the partitions at once. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      await Promise.all([...this.#loops.values()].map((loop) => loop.stop()));
      await this.#claims?.stop();
    })();
    return this.#stopped;
  }
}
