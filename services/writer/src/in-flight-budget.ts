import type { FetchRoom } from '@tributary/queue';

/** Room for one batch in a writer's memory, taken before the batch is fetched. */
export interface BatchRoom extends FetchRoom {
  /** Makes the room fit the batch actually fetched (waits if it grew past the budget). */
  resize(bytes: number): Promise<void>;
}

/**
 * Bounds what a writer holds at once: at most `maxBatches` batches and
 * `maxBytes` encoded bytes across all its partitions. Room is reserved
 * *before* a batch is fetched from the queue — for the largest batch capture
 * sends — and shrunk to the batch's size once it is in hand, so memory
 * follows this budget, not the number of partitions owned. A partition
 * waiting for room leaves its batches in the queue.
 */
export class InFlightBudget {
  readonly #maxBatches: number;
  readonly #maxBytes: number;
  #batches = 0;
  #bytes = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(maxBatches: number, maxBytes: number) {
    this.#maxBatches = maxBatches;
    this.#maxBytes = maxBytes;
  }

  /** Batches and bytes held now. */
  get usage(): { batches: number; bytes: number } {
    return { batches: this.#batches, bytes: this.#bytes };
  }

  /**
   * Waits until a batch of up to `bytes` fits, and takes the room. A batch
   * larger than the whole byte budget is let through alone, so it cannot
   * wedge the writer.
   */
  async reserve(bytes: number): Promise<BatchRoom> {
    await this.#until(() => this.#batches < this.#maxBatches && this.#fits(bytes, 0));
    this.#batches += 1;
    this.#bytes += bytes;
    let held = bytes;
    let released = false;
    return {
      resize: async (wanted: number) => {
        if (released || wanted === held) return;
        if (wanted > held) await this.#until(() => this.#fits(wanted, held));
        this.#bytes += wanted - held;
        held = wanted;
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

  /** Whether `bytes` fits when `own` of them is already held by the asker. */
  #fits(bytes: number, own: number): boolean {
    const others = this.#bytes - own;
    return others === 0 || others + bytes <= this.#maxBytes;
  }

  async #until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #wake(): void {
    for (const wake of this.#waiting.splice(0)) wake();
  }
}
