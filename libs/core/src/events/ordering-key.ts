/**
 * The total-order key of a change event: its clusterTime (seconds, increment)
 * and its position among the events that share that clusterTime (the
 * operations of one transaction share one). Derived from the change stream
 * alone — never from the resume token's internal format — and identical when
 * the same event is read again after a resume, because numbering restarts
 * from the key of the event the stream resumes after.
 *
 * Keys are fixed-width decimal text, so comparing the strings compares the
 * keys: `0001763731200-0000000007-0000000000`.
 */
export type OrderingKey = string;

const WIDTH = 10;
const KEY_PATTERN = /^(\d{10})-(\d{10})-(\d{10})$/;
const MAX_FIELD = 0xffffffff;

/** A clusterTime as the driver reports it (a BSON Timestamp has `t` and `i`). */
export interface ClusterTimeLike {
  readonly t: number;
  readonly i: number;
}

/** The parts of a key. */
export interface OrderingKeyParts extends ClusterTimeLike {
  /** Position among the events sharing this clusterTime, from 0. */
  readonly n: number;
}

/** Formats key parts; every part must be a whole number from 0 to 2^32-1. */
export function formatOrderingKey(parts: OrderingKeyParts): OrderingKey {
  for (const value of [parts.t, parts.i, parts.n]) {
    if (!Number.isInteger(value) || value < 0 || value > MAX_FIELD) {
      throw new RangeError(`ordering key part out of range: ${value}`);
    }
  }
  const pad = (v: number) => String(v).padStart(WIDTH, '0');
  return `${pad(parts.t)}-${pad(parts.i)}-${pad(parts.n)}`;
}

/** The parts of a formatted key, or `undefined` when the text is not a key. */
export function parseOrderingKey(key: string): OrderingKeyParts | undefined {
  const match = KEY_PATTERN.exec(key);
  if (!match) return undefined;
  const [t, i, n] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
  return t > MAX_FIELD || i > MAX_FIELD || n > MAX_FIELD ? undefined : { t, i, n };
}

/**
 * The event time of a key: its clusterTime's seconds. Partition paths use
 * this, never the time of writing, so late events land where they belong.
 */
export function eventTimeOfKey(key: OrderingKey): Date {
  const parts = parseOrderingKey(key);
  if (!parts) throw new RangeError(`not an ordering key: ${key}`);
  return new Date(parts.t * 1000);
}

/**
 * The greatest key before every event at or after `clusterTime`: where a
 * partition stands that has seen nothing since a stream that starts at
 * `clusterTime` (inclusive) began. Heartbeats carry it until the first event.
 */
export function keyBefore(clusterTime: ClusterTimeLike): OrderingKey {
  const { t, i } = clusterTime;
  if (i > 0) return formatOrderingKey({ t, i: i - 1, n: MAX_FIELD });
  if (t > 0) return formatOrderingKey({ t: t - 1, i: MAX_FIELD, n: MAX_FIELD });
  return formatOrderingKey({ t: 0, i: 0, n: 0 });
}

/** True when `key` is a well-formed ordering key. */
export function isOrderingKey(key: unknown): key is OrderingKey {
  return typeof key === 'string' && parseOrderingKey(key) !== undefined;
}

/**
 * Numbers events as the change stream delivers them. Start it from the key
 * of the event the stream resumes after, so a re-read event gets the key it
 * had the first time.
 */
export class OrderingKeyAssigner {
  #last: OrderingKeyParts | undefined;

  /** @param after the key of the last event before the stream's start point, if any. */
  constructor(after?: OrderingKey) {
    this.#last = after === undefined ? undefined : parseOrderingKey(after);
    if (after !== undefined && this.#last === undefined) {
      throw new RangeError(`not an ordering key: ${after}`);
    }
  }

  /** The key of the next event, whose clusterTime is `clusterTime`. */
  next(clusterTime: ClusterTimeLike): OrderingKey {
    const last = this.#last;
    const sameTime = last !== undefined && last.t === clusterTime.t && last.i === clusterTime.i;
    const parts = { t: clusterTime.t, i: clusterTime.i, n: sameTime ? last.n + 1 : 0 };
    const key = formatOrderingKey(parts);
    if (last !== undefined && key <= formatOrderingKey(last)) {
      // A change stream never goes back in time; if it seems to, the stream
      // was resumed from the wrong place and keys would collide.
      throw new RangeError(`change stream went backwards: ${key} after ${formatOrderingKey(last)}`);
    }
    this.#last = parts;
    return key;
  }
}
