/**
 * Work run every `intervalMs` (measured from the start of one run to the
 * start of the next), never two runs at once; its failures go to
 * `onError`. `nudge` runs it now — or right after the run in progress.
 */
export class RepeatingTask {
  readonly #intervalMs: () => number;
  readonly #work: () => Promise<void>;
  readonly #onError: (error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  /** @param intervalMs read before each wait, so the interval may change between runs. */
  constructor(
    intervalMs: () => number,
    work: () => Promise<void>,
    onError: (error: unknown) => void,
  ) {
    this.#intervalMs = intervalMs;
    this.#work = work;
    this.#onError = onError;
  }

  /** Schedules the first run after `delayMs`. */
  start(delayMs: number): void {
    this.#schedule(delayMs);
  }

  /** Runs the work now, or once more right after the run in progress. */
  nudge(): void {
    if (this.#stopped) return;
    if (this.#running) this.#again = true;
    else this.#schedule(0);
  }

  /** No more runs; resolves once the run in progress (if any) ended. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#run(), delayMs);
  }

  #run(): Promise<void> {
    const started = Date.now();
    this.#running = this.#work()
      .catch((error: unknown) => this.#onError(error))
      .finally(() => {
        this.#running = undefined;
        const again = this.#again;
        this.#again = false;
        const wait = Math.max(0, this.#intervalMs() - (Date.now() - started));
        this.#schedule(again ? 0 : wait);
      });
    return this.#running;
  }
}
