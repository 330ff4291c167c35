import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  MARKER_DIRECTORY,
  type ResumeOverride,
  resumeMarkerLine,
  resumeMarkerPath,
} from '@tributary/checkpoint';
import { parseOrderingKey, partitionOf } from '@tributary/core';
import { Timestamp } from 'bson';
import { afterEach, describe, expect, it } from 'vitest';
import type { VerifyReport } from '../src/verify/verify-report.ts';
import { runTributary } from './run-tributary.ts';
import { type LakeLine, PARTITIONS, VerifyFixture, lakeLines } from './verify-fixture.ts';

/** `shop.orders` and `shop.carts` go to different partitions (by namespace, of 4). */
const ORDERS = partitionOf({ ns: { db: 'shop', coll: 'orders' } }, PARTITIONS, 'namespace');
const CARTS = partitionOf({ ns: { db: 'shop', coll: 'carts' } }, PARTITIONS, 'namespace');

/** What a lake that lost a stretch of history looks like. */
interface GapLake {
  /** The last line before the stretch: where the checkpoints stood. */
  readonly from: LakeLine;
  /** The first line after it: where capture resumed. */
  readonly to: LakeLine;
  /** The lines of the stretch, taken out of the lake. */
  readonly removed: readonly LakeLine[];
}

/**
 * Changes before, during and after a stretch of history, all captured
 * and checkpointed, then the stretch's lines taken out of the lake: what
 * the lake holds when MongoDB lost that history and an operator moved
 * capture's resume point past it.
 */
async function lakeWithAGap(f: VerifyFixture): Promise<GapLake> {
  const orders = f.collection('orders');
  const carts = f.collection('carts');
  await orders.insertMany([1, 2, 3].map((n) => ({ _id: n, total: n })));
  await carts.insertOne({ _id: 1, total: 5 });
  await f.capture();
  const before = await lakeLines(f);
  await orders.insertOne({ _id: 10, total: 10 });
  await orders.updateOne({ _id: 1 }, { $set: { total: 11 } });
  await carts.insertOne({ _id: 2, total: 7 });
  await f.capture();
  const during = await lakeLines(f);
  await orders.insertOne({ _id: 11, total: 11 });
  await carts.updateOne({ _id: 1 }, { $set: { total: 6 } });
  await f.capture();
  const after = await lakeLines(f);

  const known = (lines: readonly LakeLine[]) => new Set(lines.map((l) => l.token));
  const byKey = (a: LakeLine, b: LakeLine) => (a.key < b.key ? -1 : 1);
  const removed = during.filter((l) => !known(before).has(l.token));
  const from = [...before].sort(byKey).at(-1);
  const to = after.filter((l) => !known(during).has(l.token)).sort(byKey)[0];
  if (!from || !to || removed.length !== 3) throw new Error('the changes were not captured');
  await removeLines(f, removed);
  return { from, to, removed };
}

/**
 * Takes lines out of their files, as if the writers never had them: a file
 * whose first line goes is named after the line that now comes first, and
 * one left empty goes.
 */
async function removeLines(f: VerifyFixture, lines: readonly LakeLine[]): Promise<void> {
  const all = await lakeLines(f);
  const gone = new Set(lines.map((l) => l.token));
  // Where the lines are now: an earlier removal may have renamed their file.
  for (const path of new Set(all.filter((l) => gone.has(l.token)).map((l) => l.path))) {
    const kept = all.filter((l) => l.path === path && !gone.has(l.token));
    await rm(join(f.dir, path));
    const first = kept[0];
    if (first)
      await f.rewrite(
        path.replace(/-\d{10}-\d{10}-\d{10}\.jsonl$/, `-${first.key}.jsonl`),
        kept.map((l) => l.text),
      );
  }
}

/** The clusterTime a line's key stands at. */
function clusterTimeOf(line: LakeLine): Timestamp {
  const parts = parseOrderingKey(line.key);
  if (!parts) throw new Error(`not an ordering key: ${line.key}`);
  return new Timestamp({ t: parts.t, i: parts.i });
}

/** Writes a marker as `tributary resume-point set` does; returns its path. */
async function writeMarker(
  f: VerifyFixture,
  move: {
    kind: ResumeOverride['kind'];
    from: LakeLine;
    to: LakeLine;
    setAt: string;
    partitions?: number[];
  },
): Promise<string> {
  const override: ResumeOverride = {
    kind: move.kind,
    from: {
      key: move.from.key,
      clusterTime: clusterTimeOf(move.from),
      token: { _data: move.from.token },
    },
    to: { clusterTime: clusterTimeOf(move.to) },
    setAt: new Date(move.setAt),
  };
  const path = resumeMarkerPath(override.setAt);
  const line = resumeMarkerLine(override, move.partitions ?? []);
  await f.lake.writeDocument(path, new TextEncoder().encode(line), { ifAbsent: true });
  return path;
}

async function verify(f: VerifyFixture, source = true) {
  const run = await runTributary(['verify', '--json'], f.env(source));
  return { ...run, report: run.json<VerifyReport>() };
}

const checks = (report: VerifyReport) => report.findings.map((x) => x.check).sort();
const messagesOf = (items: readonly { message: string }[]) => items.map((x) => x.message).sort();
const tokenOf = (line: LakeLine) => `(token ${line.token})`;

/** Each of `lines` named by exactly one of `messages`, and nothing else there. */
function expectEachNamed(messages: readonly string[], lines: readonly LakeLine[], then = ''): void {
  expect(messages).toHaveLength(lines.length);
  for (const line of lines)
    expect(messages.filter((m) => m.includes(`${tokenOf(line)}${then}`))).toHaveLength(1);
}

describe("tributary verify, with operators' resume-point markers in the lake", () => {
  let f: VerifyFixture;
  afterEach(async () => f?.close());

  it('reports the events a gap marker covers as skipped, not missing, and exits 0; without the marker the same lake misses them', async () => {
    f = await VerifyFixture.start();
    const { from, to, removed } = await lakeWithAGap(f);
    // An overlap changes nothing: it only re-read events.
    await writeMarker(f, { kind: 'overlap', from: to, to: from, setAt: '2026-11-21T13:00:00Z' });

    const unmarked = await verify(f);
    expect(unmarked.code).toBe(1);
    expect(checks(unmarked.report)).toEqual([
      'differing-document',
      'missing-document',
      'missing-document',
      'missing-event',
      'missing-event',
      'missing-event',
    ]);
    expect(unmarked.report.total.events).toMatchObject({ missing: 3, skipped: 0 });
    expect(unmarked.report.skipped).toEqual([]);
    expect(unmarked.report.markers.map((m) => m.kind)).toEqual(['overlap']);

    const path = await writeMarker(f, {
      kind: 'gap',
      from,
      to,
      setAt: '2026-11-21T13:40:05Z',
      partitions: [ORDERS, CARTS],
    });
    const { code, report } = await verify(f);
    expect(report.findings).toEqual([]);
    expect(code).toBe(0);
    expect(report.total.events).toMatchObject({ missing: 0, skipped: 3, unexpected: 0 });
    // Each event taken out of the lake, named with the marker; nothing else.
    expectEachNamed(
      messagesOf(report.skipped.filter((s) => s.kind === 'event')),
      removed,
      `: skipped by an operator's resume-point move (marker ${path})`,
    );
    // The documents only those events changed: inserted, updated, inserted.
    expect(report.total.documents).toMatchObject({ missing: 0, differing: 0, skipped: 3 });
    expect(messagesOf(report.skipped.filter((s) => s.kind === 'document'))).toEqual([
      expect.stringMatching(/^_id 1 differs from the source .*skipped .*marker _tributary/),
      expect.stringMatching(/^_id 10 in the source, not in the lake .*skipped/),
      expect.stringMatching(/^_id 2 in the source, not in the lake .*skipped/),
    ]);
    expect(report.markers).toEqual([
      expect.objectContaining({ kind: 'overlap' }),
      {
        path,
        kind: 'gap',
        from: {
          key: from.key,
          clusterTime: expect.objectContaining({
            t: clusterTimeOf(from).high,
            i: clusterTimeOf(from).low,
          }),
        },
        to: {
          clusterTime: expect.objectContaining({
            t: clusterTimeOf(to).high,
            i: clusterTimeOf(to).low,
          }),
        },
        partitions: [ORDERS, CARTS],
        setAt: '2026-11-21T13:40:05.000Z',
      },
    ]);

    const text = await runTributary(['verify'], f.env(true));
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `gap +\\S+ .*→ \\S+.*, set 2026-11-21T13:40:05.000Z, partitions ${ORDERS}, ${CARTS} +\\(${path}\\)`,
      ),
    );
    expect(text.stdout).toContain(
      "Skipped by an operator's resume-point move (a gap accepted; not problems): 3 events, 3 documents",
    );
  });

  it('still counts missing an event of a partition the gap marker does not name, and one outside the gap', async () => {
    f = await VerifyFixture.start();
    const { from, to, removed } = await lakeWithAGap(f);
    // Capture resumed at `to` inclusive: the event there was read, so losing it is a problem.
    await removeLines(f, [to]);
    const path = await writeMarker(f, {
      kind: 'gap',
      from,
      to,
      setAt: '2026-11-21T13:40:05Z',
      partitions: [ORDERS],
    });
    const damaged = `${MARKER_DIRECTORY}/resume-point-20261121T140000Z.jsonl`;
    await f.lake.writeDocument(damaged, new TextEncoder().encode('{"marker": \n'), {
      ifAbsent: true,
    });

    const { code, report } = await verify(f);
    expect(code).toBe(1);
    const cart = removed.filter((l) => l.namespace === 'shop.carts');
    expect(cart).toHaveLength(1);
    expectEachNamed(
      messagesOf(report.findings.filter((x) => x.check === 'missing-event')),
      [...cart, to],
      ': not in the lake',
    );
    expectEachNamed(
      messagesOf(report.skipped.filter((s) => s.kind === 'event')),
      removed.filter((l) => l.namespace === 'shop.orders'),
      ': skipped',
    );
    expect(report.total.events).toMatchObject({ missing: 2, skipped: 2 });
    expect(report.total.documents).toMatchObject({ missing: 2, skipped: 2 });
    expect(report.markers.map((m) => m.path)).toEqual([path]);
    expect(report.notes).toContainEqual(
      expect.stringMatching(
        new RegExp(`^The resume-point marker cannot be read: not JSON \\(${damaged}\\)`),
      ),
    );

    // The lake alone lists the markers too.
    const lakeOnly = await verify(f, false);
    expect(lakeOnly.report.markers.map((m) => m.path)).toEqual([path]);
    expect(lakeOnly.report.notes).toContainEqual(expect.stringContaining(damaged));
  });
});
