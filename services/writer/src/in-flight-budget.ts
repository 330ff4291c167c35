import type { FetchRoom } from '@tributary/queue';

/** Room for one batch in a writer's memory, taken before the batch is fetched. */
export interface BatchRoom extends FetchRoom {
  /**
   * Counts what the batch in hand really takes (its body, and the events
   * its claim checks will bring). Never waits: the batch is in memory
   * already; a larger one only makes the next fetches wait longer.
   */
  resize(bytes: number): void;
}

/**
 * Bounds what a writer holds at once: at most `maxBatches` batches and
 * `maxBytes` bytes across all its partitions. Room is reserved *before* a
 * batch is fetched from the queue — for the largest batch capture sends —
 * and set to the batch's real size once it is in hand, so memory follows
 * this budget, not the number of partitions owned. A partition waiting for
 * room leaves its batches in the queue. A batch larger than the whole
 * budget is let through alone, so it cannot wedge the writer.
 */
export class InFlightBudget {
  readonly #maxBatches: number;
  readonly #maxBytes: number;
  #batches = 0;
  #bytes = 0;
  readonly #waiting = new Set<() => void>();

  constructor(maxBatches: number, maxBytes: number) {
    this.#maxBatches = maxBatches;
    this.#maxBytes = maxBytes;
  }

  /** Batches and bytes held now. */
  get usage(): { batches: number; bytes: number } {
    return { batches: this.#batches, bytes: this.#bytes };
  }

  /**
   * Waits until a batch of up to `bytes` fits, and takes the room (checked
   * and taken in one step, so concurrent callers never overshoot).
   *
   * @throws the signal's reason when `signal` aborts first.
   */
  async reserve(bytes: number, signal?: AbortSignal): Promise<BatchRoom> {
    while (!this.#fits(bytes)) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiting.delete(wake);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        this.#waiting.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
    // No await between the check above and this: the room is taken as checked.
    this.#batches += 1;
    this.#bytes += bytes;
    let held = bytes;
    let released = false;
    return {
      resize: (real: number) => {
        if (released) return;
        this.#bytes += real - held;
        held = real;
        this.#wake();
      },
      release: () => {
        if (released) return;
        released = true;
        this.#batches -= 1;
        this.#bytes -= held;
        this.#wake();
      },
    };
  }

  #fits(bytes: number): boolean {
    if (this.#batches >= this.#maxBatches) return false;
    return this.#batches === 0 || this.#bytes + bytes <= this.#maxBytes;
  }

  #wake(): void {
    for (const wake of [...this.#waiting]) wake();
  }
}
