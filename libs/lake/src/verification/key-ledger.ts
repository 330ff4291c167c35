import { parseOrderingKey } from '@tributary/core';

/** Where one line of the lake is, and what identifies its event. */
export interface LedgerEntry {
  /** The ordering key's parts: clusterTime (`t`, `i`) and position `n`. */
  readonly t: number;
  readonly i: number;
  readonly n: number;
  /** Index of the file (the caller's numbering). */
  readonly file: number;
  /** 1-based line number in the file. */
  readonly line: number;
  /** {@link tokenHash} of the line's resume token `_data`. */
  readonly token: number;
  /** Index of the line's namespace (the caller's numbering). */
  readonly namespace: number;
}

const COLUMNS = 7;

/**
 * Every line's ordering key, place and token fingerprint in one flat
 * `Uint32Array` (28 bytes a line, no object per line), so a lake of tens of
 * millions of lines can be checked for duplicate keys and replayed against
 * the source's change stream without holding its text. Sorting by key
 * happens once, on demand.
 */
export class KeyLedger {
  #data = new Uint32Array(COLUMNS * 1024);
  #size = 0;
  #sorted: Uint32Array | undefined;

  /** Number of entries. */
  get size(): number {
    return this.#size;
  }

  /**
   * Records a line and returns its entry index.
   *
   * @throws RangeError when `key` is not an ordering key.
   */
  add(key: string, file: number, line: number, token: string, namespace: number): number {
    const parts = parseOrderingKey(key);
    if (!parts) throw new RangeError(`not an ordering key: ${key}`);
    if ((this.#size + 1) * COLUMNS > this.#data.length) {
      const grown = new Uint32Array(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    const at = this.#size * COLUMNS;
    this.#data[at] = parts.t;
    this.#data[at + 1] = parts.i;
    this.#data[at + 2] = parts.n;
    this.#data[at + 3] = file;
    this.#data[at + 4] = line;
    this.#data[at + 5] = tokenHash(token);
    this.#data[at + 6] = namespace;
    this.#sorted = undefined;
    this.#size += 1;
    return this.#size - 1;
  }

  /** The entry at `index`. */
  entry(index: number): LedgerEntry {
    if (!Number.isInteger(index) || index < 0 || index >= this.#size)
      throw new RangeError(`no ledger entry ${index}`);
    const d = this.#data;
    const at = index * COLUMNS;
    return {
      t: d[at] ?? 0,
      i: d[at + 1] ?? 0,
      n: d[at + 2] ?? 0,
      file: d[at + 3] ?? 0,
      line: d[at + 4] ?? 0,
      token: d[at + 5] ?? 0,
      namespace: d[at + 6] ?? 0,
    };
  }

  /** Compares two entries' keys (then their order of recording). */
  compare(a: number, b: number): number {
    const d = this.#data;
    const x = a * COLUMNS;
    const y = b * COLUMNS;
    return (
      (d[x] ?? 0) - (d[y] ?? 0) ||
      (d[x + 1] ?? 0) - (d[y + 1] ?? 0) ||
      (d[x + 2] ?? 0) - (d[y + 2] ?? 0) ||
      a - b
    );
  }

  /** Entry indices in key order; entries with equal keys in the order they were recorded. */
  sortedOrder(): Uint32Array {
    if (!this.#sorted) {
      const order = new Uint32Array(this.#size);
      for (let k = 0; k < order.length; k += 1) order[k] = k;
      order.sort((a, b) => this.compare(a, b));
      this.#sorted = order;
    }
    return this.#sorted;
  }

  /**
   * Groups of entries that share a key, each group in recording order:
   * the first entry of a group is the line read first, the others repeat it.
   */
  *duplicateGroups(): Iterable<readonly number[]> {
    const order = this.sortedOrder();
    let group: number[] = [];
    for (const index of order) {
      const first = group[0];
      if (first !== undefined && !this.#sameKey(first, index)) {
        if (group.length > 1) yield group;
        group = [];
      }
      group.push(index);
    }
    if (group.length > 1) yield group;
  }

  #sameKey(a: number, b: number): boolean {
    const d = this.#data;
    const x = a * COLUMNS;
    const y = b * COLUMNS;
    return d[x] === d[y] && d[x + 1] === d[y + 1] && d[x + 2] === d[y + 2];
  }
}

/**
 * A 32-bit fingerprint (FNV-1a) of a resume token's `_data`. Events are only
 * ever matched by fingerprint among those sharing one clusterTime, where a
 * collision is practically impossible.
 */
export function tokenHash(data: string): number {
  let hash = 0x811c9dc5;
  for (let k = 0; k < data.length; k += 1) {
    hash ^= data.charCodeAt(k);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
