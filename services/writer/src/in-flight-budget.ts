/**
 * Bounds what a writer holds at once: at most `maxBatches` batches and
 * `maxBytes` encoded bytes across all its partitions. A partition that
 * would exceed the budget waits, leaving its batches in the queue — so a
 * writer's memory stays flat whatever the backlog.
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
   * Waits until a batch of `bytes` fits, takes it, and returns the function
   * that gives it back. A batch larger than the whole byte budget is let
   * through alone, so it cannot wedge the writer.
   */
  async acquire(bytes: number): Promise<() => void> {
    while (!this.#fits(bytes)) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#batches += 1;
    this.#bytes += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#batches -= 1;
      this.#bytes -= bytes;
      for (const wake of this.#waiting.splice(0)) wake();
    };
  }

  #fits(bytes: number): boolean {
    if (this.#batches >= this.#maxBatches) return false;
    return this.#batches === 0 || this.#bytes + bytes <= this.#maxBytes;
  }
}
