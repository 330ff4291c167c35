import { describe, expect, it } from 'vitest';
import {
  PRESENCE_FRESH_MS,
  PRESENCE_INTERVAL_MS,
  isPresenceFresh,
  presenceAgeMs,
} from '../src/presence-freshness.ts';

const now = Date.UTC(2026, 10, 21, 13, 40, 0);
const reportedAgo = (ms: number) => ({
  captureId: 'c',
  startedAt: new Date(now - 3_600_000),
  reportedAt: new Date(now - ms),
});

describe('whether a presence record says capture runs', () => {
  it('allows three refresh intervals before a record counts as stale', () => {
    expect(PRESENCE_FRESH_MS).toBe(3 * PRESENCE_INTERVAL_MS);
  });

  it.each<[string, number | undefined, boolean]>([
    ['no record', undefined, false],
    ['a record just written', 0, true],
    ['a record one refresh late', PRESENCE_INTERVAL_MS * 2, true],
    ['a record just short of the bound', PRESENCE_FRESH_MS - 1, true],
    ['a record at the bound', PRESENCE_FRESH_MS, false],
    ['a record left by a crash an hour ago', 3_600_000, false],
    ['a record from a clock ahead of ours', -2_000, true],
  ])('%s: %s', (_what, ago, fresh) => {
    const presence = ago === undefined ? undefined : reportedAgo(ago);
    expect(isPresenceFresh(presence, now)).toBe(fresh);
    if (presence) expect(presenceAgeMs(presence, now)).toBe(ago);
  });
});
