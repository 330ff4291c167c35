import type { ResumeMarker } from '@tributary/checkpoint';
import { formatOrderingKey } from '@tributary/core';
import { Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import type { DocumentDifference } from '../src/verify/document-comparison.ts';
import { documentIdKey } from '../src/verify/document-fingerprint.ts';
import { documentRef } from '../src/verify/event-comparison.ts';
import { ResumeGapRule, skippedBy } from '../src/verify/resume-gap-rule.ts';

const T = 1_780_000_000;
const GAP = '_tributary/markers/resume-point-20261121T134005Z.jsonl';
const LATER_GAP = '_tributary/markers/resume-point-20261122T090000Z.jsonl';
const OVERLAP = '_tributary/markers/resume-point-20261121T120000Z.jsonl';

/** A marker moving from `from` (its key the 2nd event of that clusterTime) to `to`. */
function marker(
  kind: ResumeMarker['kind'],
  from: { t: number; i: number },
  to: { t: number; i: number },
  partitions: number[],
): ResumeMarker {
  return {
    kind,
    from: { key: formatOrderingKey({ ...from, n: 1 }), clusterTime: new Timestamp(from) },
    to: { clusterTime: new Timestamp(to) },
    setAt: new Date(Date.UTC(2026, 10, 21)),
    partitions,
  };
}

describe('which events an operator’s gap skipped', () => {
  const rule = new ResumeGapRule([
    // An overlap skips nothing, whatever partitions and stretch its marker were to name.
    { path: OVERLAP, marker: marker('overlap', { t: T, i: 0 }, { t: T + 60, i: 0 }, [0, 1, 2]) },
    { path: GAP, marker: marker('gap', { t: T, i: 5 }, { t: T + 10, i: 2 }, [0, 2]) },
    { path: LATER_GAP, marker: marker('gap', { t: T + 50, i: 0 }, { t: T + 60, i: 0 }, [1]) },
  ]);

  it.each([
    ['an event inside the gap', 0, { t: T + 5, i: 0 }, 0, GAP],
    ['the same event in a partition the marker does not name', 1, { t: T + 5, i: 0 }, 0, undefined],
    ['an event before the gap', 0, { t: T, i: 4 }, 0, undefined],
    ['the event at the from key', 0, { t: T, i: 5 }, 1, undefined],
    ['an earlier event of the from key’s transaction', 0, { t: T, i: 5 }, 0, undefined],
    ['a later event of the from key’s transaction', 2, { t: T, i: 5 }, 2, GAP],
    [
      'an event of the from clusterTime at an unknown position',
      0,
      { t: T, i: 5 },
      undefined,
      undefined,
    ],
    ['the last event before the gap’s to', 2, { t: T + 10, i: 1 }, 0, GAP],
    ['an event at the gap’s to (read again from there)', 0, { t: T + 10, i: 2 }, 0, undefined],
    ['an event after the gap', 0, { t: T + 11, i: 0 }, 0, undefined],
    ['an event inside a later gap of its partition', 1, { t: T + 55, i: 0 }, 0, LATER_GAP],
  ] as const)('%s', (_, partition, at, n, skippedBy) => {
    expect(rule.skipping(partition, at, n)).toBe(skippedBy);
  });
});

describe('which document differences an operator’s gap explains', () => {
  const difference: DocumentDifference = {
    issue: 'differing',
    namespace: 'shop.orders',
    idKey: documentIdKey(7),
    partition: 0,
    entry: undefined,
  };
  const ref = documentRef(difference.namespace, difference.idKey);
  const replay = (skipped: [string, string][], missing: string[] = []) => ({
    documentsSkippedEvents: new Map(skipped),
    documentsMissingEvents: new Set(missing),
  });

  it('one whose changes the lake lacks were all skipped, naming the marker', () => {
    expect(skippedBy(difference, [replay([]), replay([[ref, GAP]])])).toBe(GAP);
  });

  it('not one with a lost change beside the skipped ones, seen by any replay', () => {
    expect(skippedBy(difference, [replay([[ref, GAP]]), replay([], [ref])])).toBeUndefined();
  });

  it('not one whose skipped changes are another document’s', () => {
    expect(
      skippedBy(difference, [replay([[documentRef('shop.orders', documentIdKey(8)), GAP]])]),
    ).toBeUndefined();
  });
});
