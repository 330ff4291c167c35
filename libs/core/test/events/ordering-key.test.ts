import { describe, expect, it } from 'vitest';
import {
  OrderingKeyAssigner,
  eventTimeOfKey,
  formatOrderingKey,
  keyBefore,
  parseOrderingKey,
} from '../../src/index.ts';

describe('ordering keys', () => {
  it('compare as text in the same order as their clusterTime and position', () => {
    const keys = [
      { t: 100, i: 1, n: 0 },
      { t: 100, i: 1, n: 1 },
      { t: 100, i: 2, n: 0 },
      { t: 99_999_999, i: 0, n: 0 },
      { t: 0xffffffff, i: 0xffffffff, n: 0xffffffff },
    ].map(formatOrderingKey);
    expect([...keys].sort()).toEqual(keys);
    expect(parseOrderingKey(keys[4] ?? '')).toEqual({
      t: 0xffffffff,
      i: 0xffffffff,
      n: 0xffffffff,
    });
  });

  it('number events that share a clusterTime (a transaction) by their position', () => {
    const assigner = new OrderingKeyAssigner();
    const keys = [
      assigner.next({ t: 10, i: 1 }),
      assigner.next({ t: 10, i: 2 }),
      assigner.next({ t: 10, i: 2 }),
      assigner.next({ t: 10, i: 2 }),
      assigner.next({ t: 11, i: 1 }),
    ];
    expect(keys.map((k) => parseOrderingKey(k)?.n)).toEqual([0, 0, 1, 2, 0]);
  });

  it('give a re-read event the key it had, when numbering resumes after the last key', () => {
    const first = new OrderingKeyAssigner();
    const original = [
      { t: 5, i: 1 },
      { t: 5, i: 1 },
      { t: 5, i: 1 },
      { t: 6, i: 1 },
    ].map((ct) => first.next(ct));
    // The stream resumes after the second event of the transaction.
    const resumed = new OrderingKeyAssigner(original[1]);
    expect([resumed.next({ t: 5, i: 1 }), resumed.next({ t: 6, i: 1 })]).toEqual(original.slice(2));
  });

  it('refuse a stream that goes backwards', () => {
    const assigner = new OrderingKeyAssigner(formatOrderingKey({ t: 50, i: 1, n: 0 }));
    expect(() => assigner.next({ t: 49, i: 9 })).toThrow(/went backwards/);
  });

  it('refuse malformed keys and out-of-range parts', () => {
    expect(parseOrderingKey('12-3-4')).toBeUndefined();
    expect(parseOrderingKey('9999999999-0000000000-0000000000')).toBeUndefined();
    expect(() => formatOrderingKey({ t: -1, i: 0, n: 0 })).toThrow(RangeError);
    expect(() => new OrderingKeyAssigner('nope')).toThrow(RangeError);
  });

  it('carry the event time in UTC', () => {
    expect(eventTimeOfKey(formatOrderingKey({ t: 1_763_731_200, i: 3, n: 0 })).toISOString()).toBe(
      '2025-11-21T13:20:00.000Z',
    );
  });
});

describe('the key before a start time', () => {
  it('sorts before every event at or after the time, and after every event before it', () => {
    for (const [t, i] of [
      [1_763_731_200, 7],
      [1_763_731_200, 0],
      [1, 0],
    ] as const) {
      const before = keyBefore({ t, i });
      expect(before < formatOrderingKey({ t, i, n: 0 })).toBe(true);
      if (i > 0) expect(before > formatOrderingKey({ t, i: i - 1, n: 5 })).toBe(true);
      else expect(before > formatOrderingKey({ t: t - 1, i: 99, n: 5 })).toBe(true);
      expect(new OrderingKeyAssigner(before).next({ t, i })).toBe(
        formatOrderingKey({ t, i, n: 0 }),
      );
    }
  });
});
