import { Timestamp } from 'bson';

/**
 * The replica set's logical clock. Every write gets a strictly greater
 * Timestamp; a transaction's writes share one. Idle time still moves the
 * clock forward (seconds follow the wall clock), as the real primary's
 * periodic no-op writes do, so high-water-mark resume tokens advance.
 */
export class ClusterClock {
  #seconds = 0;
  #increment = 0;

  /** Reserves the next write timestamp. */
  tick(): Timestamp {
    const now = Math.floor(Date.now() / 1000);
    if (now > this.#seconds) {
      this.#seconds = now;
      this.#increment = 1;
    } else {
      this.#increment += 1;
    }
    return new Timestamp({ t: this.#seconds, i: this.#increment });
  }

  /** The latest cluster time: the last write, or the current second when idle. */
  now(): Timestamp {
    const now = Math.floor(Date.now() / 1000);
    if (now > this.#seconds) return new Timestamp({ t: now, i: 0 });
    return new Timestamp({ t: this.#seconds, i: this.#increment });
  }

  /** The timestamp of the last write, if there was one. */
  lastWrite(): Timestamp | undefined {
    if (this.#seconds === 0) return undefined;
    return new Timestamp({ t: this.#seconds, i: this.#increment });
  }

  /** Restores the clock after loading persisted data, so time never goes backwards. */
  restore(last: Timestamp): void {
    if (last.high > this.#seconds || (last.high === this.#seconds && last.low > this.#increment)) {
      this.#seconds = last.high;
      this.#increment = last.low;
    }
  }
}
