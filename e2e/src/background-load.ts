import type { MongoClient } from 'mongodb';
import { runMixedLoad } from './mixed-load.ts';

/** A mixed load running while the test does other things. */
export class BackgroundLoad {
  /** Resolves with the change events the load caused (from the driver's results). */
  readonly done: Promise<number>;
  readonly #abort = new AbortController();
  #rounds = 0;

  constructor(client: MongoClient, rounds: number) {
    this.done = runMixedLoad(client, {
      rounds,
      progress: (round) => (this.#rounds = round + 1),
      signal: this.#abort.signal,
    });
  }

  /** Rounds finished so far. */
  get rounds(): number {
    return this.#rounds;
  }

  /** Resolves once `rounds` rounds are done (or the load ended). */
  async reach(rounds: number): Promise<void> {
    let ended = false;
    void this.done.finally(() => (ended = true));
    while (this.#rounds < rounds && !ended) await new Promise((r) => setTimeout(r, 20));
    await (ended ? this.done : undefined);
  }

  /**
   * Stops after the round in hand and waits for it, whatever its outcome:
   * a test that failed half-way must still be able to close the client the
   * load is using without leaving an operation to reject unobserved.
   */
  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled([this.done]);
  }
}
