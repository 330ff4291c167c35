import { randomInt } from 'node:crypto';

/** The largest seed: seeds are unsigned 32-bit integers, the PRNG's whole state. */
export const MAX_SEED = 0xffff_ffff;

/**
 * A small seeded pseudo-random generator (mulberry32). The chaos schedule
 * draws every choice from one of these, so the same seed gives the same
 * faults with the same parameters in the same order — the replay of a
 * failed run. Not for anything that must be unpredictable.
 */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED)
      throw new RangeError(`a seed is an integer 0…${MAX_SEED}, not ${seed}`);
    this.#state = seed;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One of `items` (which must not be empty). */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('nothing to pick from');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** A shuffled copy of `items` (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = this.int(0, i);
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }

  /** An independent generator for another purpose, derived from this one. */
  fork(): SeededRandom {
    return new SeededRandom(this.int(0, MAX_SEED));
  }
}

/** A fresh seed for a run that was given none (printed, so the run can be replayed). */
export function randomSeed(): number {
  return randomInt(0, MAX_SEED);
}
