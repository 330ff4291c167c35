import type { CheckpointStore, GapReport } from '@tributary/checkpoint';
import { type CapturedEvent, type ChangeBatch, decodeBatch, isClaimed } from '@tributary/core';
import type { BatchPublisher, OutgoingBatch } from '@tributary/queue';

/**
 * A queue that can lose what it holds with nothing to tell of it — no
 * `contentsEpoch`, as on Service Bus, where messages expire or are
 * dead-lettered while writers are down, or the queue is deleted and
 * recreated. Writers take what it holds in publish order.
 */
export class LossyQueue implements BatchPublisher {
  readonly maxBatchBytes = 64 * 1024 * 1024;
  /** Every batch capture published, lost or not. */
  readonly published: ChangeBatch[] = [];
  #held: ChangeBatch[] = [];

  async ready(): Promise<void> {}
  async publish(batch: OutgoingBatch): Promise<void> {
    const decoded = decodeBatch(batch.body, 4);
    this.published.push(decoded);
    this.#held.push(decoded);
  }
  async close(): Promise<void> {}

  /** Hands writers what the queue holds, oldest first. */
  take(): ChangeBatch[] {
    const taken = this.#held;
    this.#held = [];
    return taken;
  }

  /** Loses everything it holds; returns how many batches. */
  loseAll(): number {
    return this.take().length;
  }
}

/**
 * Writers, acting on what they receive as the real ones do (see the
 * writer's partition loop and `GapTracker`): a batch that follows the
 * partition's checkpoint has its new events written and the checkpoint
 * moved to it; one whose predecessor the checkpoint does not reach follows
 * lost batches, so it is dropped and the gap reported through the
 * checkpoint store, once per generation — and the report cleared when a
 * newer generation heals it.
 */
export class ChainWriters {
  /** Every event written, in order, with the generation of the batch that brought it. */
  readonly written: { readonly event: CapturedEvent; readonly generation: number }[] = [];
  /** Gap reports stored so far. */
  gapsReported = 0;
  readonly #checkpoints: CheckpointStore;
  readonly #queue: LossyQueue;
  readonly #reported = new Map<number, GapReport>();

  constructor(checkpoints: CheckpointStore, queue: LossyQueue) {
    this.#checkpoints = checkpoints;
    this.#queue = queue;
  }

  /** Takes and handles everything the queue holds. */
  async drain(): Promise<void> {
    for (const batch of this.#queue.take()) await this.#receive(batch);
  }

  async #receive(batch: ChangeBatch): Promise<void> {
    const p = batch.partition;
    const stored = await this.#checkpoints.readPartition(p);
    const at = stored?.value.position?.key ?? '';
    const reported = this.#reported.get(p);
    if (batch.previousKey > at) {
      if (reported && reported.generation >= batch.generation) return;
      const report: GapReport = {
        partition: p,
        afterKey: at,
        generation: batch.generation,
        missingUpTo: batch.previousKey,
        writerId: 'w',
        reportedAt: new Date(),
      };
      await this.#checkpoints.reportGap(report);
      this.#reported.set(p, report);
      this.gapsReported += 1;
      return;
    }
    for (const entry of batch.events)
      if (entry.key > at && !isClaimed(entry))
        this.written.push({ event: entry, generation: batch.generation });
    if (batch.position.key >= at)
      await this.#checkpoints.writePartition(
        {
          partition: p,
          position: batch.position,
          openFiles: [],
          writerId: 'w',
          updatedAt: new Date(),
        },
        stored?.version,
      );
    if (reported && batch.generation > reported.generation) {
      await this.#checkpoints.clearGap(reported);
      this.#reported.delete(p);
    }
  }
}

/** Empty batches at the very position (key and resume token) of their partition's batch before. */
export function probesIn(batches: readonly ChangeBatch[]): ChangeBatch[] {
  const last = new Map<number, ChangeBatch>();
  const probes: ChangeBatch[] = [];
  for (const batch of batches) {
    const before = last.get(batch.partition);
    const same =
      before !== undefined &&
      before.position.key === batch.position.key &&
      JSON.stringify(before.position.token) === JSON.stringify(batch.position.token);
    if (batch.events.length === 0 && same) probes.push(batch);
    last.set(batch.partition, batch);
  }
  return probes;
}
