import { type CheckpointStore, createLakeCheckpointStore } from '@tributary/checkpoint';
import type { Pipeline } from './pipeline.ts';

/** One partition's last stored checkpoint: who wrote it, and when. */
export interface PartitionOwner {
  readonly partition: number;
  readonly writerId: string;
  readonly updatedAt: Date;
}

/**
 * Who owns which partition, as the stored checkpoints say: the independent
 * record of ownership, since only a partition's owner can store its
 * checkpoint (compare-and-set with its fencing token). Heartbeat markers keep
 * every partition's checkpoint fresh, so this follows ownership within a
 * heartbeat interval or two.
 */
export class PartitionOwners {
  readonly #store: CheckpointStore;
  readonly #partitionCount: number;

  private constructor(store: CheckpointStore, partitionCount: number) {
    this.#store = store;
    this.#partitionCount = partitionCount;
  }

  static async of(pipeline: Pipeline): Promise<PartitionOwners> {
    const store = createLakeCheckpointStore({ lake: await pipeline.lake() });
    return new PartitionOwners(store, Number(pipeline.env.TRIBUTARY_PARTITION_COUNT));
  }

  /** Every partition's checkpoint; partitions without one are left out. */
  async read(): Promise<PartitionOwner[]> {
    const owners: PartitionOwner[] = [];
    for (let partition = 0; partition < this.#partitionCount; partition += 1) {
      const stored = await this.#store.readPartition(partition);
      if (stored)
        owners.push({
          partition,
          writerId: stored.value.writerId,
          updatedAt: stored.value.updatedAt,
        });
    }
    return owners;
  }

  /**
   * Reads until `accept` holds for the owners (every partition checkpointed),
   * or throws after `timeoutMs` with the last reading.
   */
  async until(
    accept: (owners: PartitionOwner[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<PartitionOwner[]> {
    const started = Date.now();
    for (;;) {
      const owners = await this.read();
      if (owners.length === this.#partitionCount && accept(owners)) return owners;
      if (Date.now() - started > timeoutMs)
        throw new Error(
          `partition owners not as expected after ${timeoutMs} ms: ${JSON.stringify(byWriter(owners))}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Idempotent; the lake stays open (the pipeline owns it). */
  close(): Promise<void> {
    return this.#store.close();
  }
}

/** Partitions per writer id, sorted, e.g. `{ w1: [0, 5], w2: [1, 2] }`. */
export function byWriter(owners: readonly PartitionOwner[]): Record<string, number[]> {
  const result: Record<string, number[]> = {};
  for (const { writerId, partition } of owners) (result[writerId] ??= []).push(partition);
  for (const partitions of Object.values(result)) partitions.sort((a, b) => a - b);
  return result;
}
