import { formatOrderingKey } from '@tributary/core';
import { describe, expect, it } from 'vitest';
import { GapTracker, followsChain } from '../src/batch-chain.ts';

const key = (i: number) => formatOrderingKey({ t: 1_795_266_000, i, n: 0 });
const batch = (previous: number, last: number, generation = 1) => ({
  partition: 3,
  generation,
  sequence: 0,
  events: [],
  position: { key: key(last), token: {} },
  previousKey: previous === 0 ? '' : key(previous),
});

describe('the batch chain', () => {
  it.each([
    ['the batch that follows the checkpoint', batch(5, 7), key(5), true],
    ['a re-sent batch that overlaps it', batch(3, 7), key(5), true],
    ['the first batch of a partition', batch(0, 2), undefined, true],
    ['a batch after lost ones', batch(6, 7), key(5), false],
    ['a batch after lost ones, before any checkpoint', batch(1, 2), undefined, false],
  ])('judges %s', (_what, b, position, follows) => {
    expect(followsChain(b, position)).toBe(follows);
  });

  it('reports a gap once per generation, again for a newer one, and again after half a minute', () => {
    const gaps = new GapTracker(3, 'w1');
    const first = gaps.followedGap(batch(6, 7), key(5), 0);
    expect(first).toMatchObject({
      warn: true,
      report: { afterKey: key(5), missingUpTo: key(6), generation: 1 },
    });
    if (first.report) gaps.reported(first.report, 0);
    expect(gaps.followedGap(batch(7, 8), key(5), 1_000)).toEqual({ warn: false });
    expect(gaps.followedGap(batch(8, 9), key(5), 31_000).report).toMatchObject({ generation: 1 });
    const newer = gaps.followedGap(batch(8, 9, 2), key(5), 32_000);
    expect(newer.report).toMatchObject({ generation: 2 });
  });

  it('counts a gap healed only by capture’s answer, not by a stale copy that merely continues the chain', () => {
    const gaps = new GapTracker(3, 'w1');
    const news = gaps.followedGap(batch(8, 9), key(5), 0);
    if (news.report) gaps.reported(news.report, 0);
    // A stale copy of generation 1, up to key 6: the batches up to 8 are still missing.
    expect(gaps.continued(batch(5, 6))).toBeUndefined();
    expect(gaps.open).toBeDefined();
    const healed = gaps.continued(batch(5, 9, 2));
    expect(healed).toMatchObject({ gap: { afterKey: key(5) }, report: news.report });
    expect(gaps.open).toBeUndefined();
  });
});
