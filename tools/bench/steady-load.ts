import type { Collection, Document } from 'mongodb';

/** About 1 KB once `_id`, `seq` and `at` are added, as in the emulator's own benchmark. */
const PAYLOAD = 'x'.repeat(1_000 - 60);

/** How the load is paced. */
export interface SteadyLoadOptions {
  /** Documents per second offered to the source. */
  readonly eventsPerSecond: number;
  readonly durationMs: number;
  /** Largest insertMany; a batch that falls behind schedule catches up up to this size. */
  readonly maxBatch: number;
  readonly signal?: AbortSignal;
}

/**
 * Inserts ~1 KB documents at a fixed rate for a fixed time. Open loop: the
 * schedule does not wait for the pipeline, so a pipeline that cannot keep up
 * shows it as growing lag instead of hiding it behind a slower load. Each
 * step inserts what the schedule says is due, so short stalls are caught up
 * without changing the average rate.
 */
export class SteadyLoad {
  #produced = 0;

  /** Documents inserted so far. */
  get produced(): number {
    return this.#produced;
  }

  /** Runs the load; resolves when the duration is over and the last insert returned. */
  async run(collection: Collection<Document>, options: SteadyLoadOptions): Promise<void> {
    const started = performance.now();
    const stepMs = 20;
    for (;;) {
      const elapsed = performance.now() - started;
      if (elapsed >= options.durationMs || options.signal?.aborted) return;
      const due = Math.floor((elapsed / 1000) * options.eventsPerSecond) - this.#produced;
      if (due <= 0) {
        await new Promise((resolve) => setTimeout(resolve, stepMs));
        continue;
      }
      const count = Math.min(due, options.maxBatch);
      const docs: Document[] = [];
      for (let i = 0; i < count; i++)
        docs.push({ seq: this.#produced + i, payload: PAYLOAD, at: new Date() });
      await collection.insertMany(docs);
      this.#produced += count;
    }
  }
}
