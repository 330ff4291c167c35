import { randomUUID } from 'node:crypto';
import { deadLetteredClaimPath, isClaimed } from '@tributary/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Broker,
  MIXED_REASON,
  ORDERS_REASON,
  POISON_REASON,
  type MadeDeadLetter,
  type StandardDeadLetters,
  WriterSide,
  makeStandardDeadLetters,
  openBullmqBroker,
  openServiceBusBroker,
} from './dead-letters-fixture.ts';
import { runTributary } from './run-tributary.ts';

/** The parts of `dead-letters list --json` the tests read. */
interface Listed {
  readonly total: number;
  readonly matched: number;
  readonly cut: boolean;
  readonly counts: readonly {
    reason: string;
    partition: number;
    deadLetters: number;
    events: number;
  }[];
  readonly deadLetters: readonly Record<string, unknown>[];
}

/** What the list must say of a dead letter, from what the test put in it. */
function expectedRow(made: MadeDeadLetter): Record<string, unknown> {
  const events = made.batch?.events ?? [];
  const namespaces = new Set<string>();
  for (const entry of events) {
    if (isClaimed(entry)) continue;
    const ns = entry.event.ns as { db: string; coll: string };
    namespaces.add(`${ns.db}.${ns.coll}`);
  }
  return {
    id: made.id,
    partition: made.partition,
    generation: made.batch ? 1 : null,
    sequence: made.batch?.sequence ?? null,
    events: made.batch ? events.length : null,
    firstKey: events[0]?.key ?? null,
    lastKey: events.at(-1)?.key ?? null,
    namespaces: [...namespaces].sort(),
    claimChecked: events.filter(isClaimed).length,
    reason: made.reason,
    failedAttempts: made.failedAttempts,
    eventsInLake: made.eventsInLake.length,
    eventsInLakeKeys: made.eventsInLake,
    bodyBytes: made.body.byteLength,
  };
}

describe.each([
  ['BullMQ', openBullmqBroker],
  ['Service Bus', openServiceBusBroker],
])('tributary dead-letters list and show on %s', (_, openBroker) => {
  let broker: Broker;
  let side: WriterSide;
  let made: StandardDeadLetters;

  beforeAll(async () => {
    broker = await openBroker();
    side = await WriterSide.open(broker);
    made = await makeStandardDeadLetters(side);
  }, 30_000);
  afterAll(async () => {
    await side?.close();
    await broker?.close();
  });

  it('counts the dead letters by reason and partition, lists every field of each, and exits 1', async () => {
    const run = await runTributary(['dead-letters', 'list', '--json'], side.env);
    expect([run.code, run.stderr]).toEqual([1, '']);
    const listed = run.json<Listed>();
    expect([listed.total, listed.matched, listed.cut]).toEqual([3, 3, false]);
    const all = [made.orders, made.mixed, made.poison];
    expect(listed.deadLetters.map((d) => d.id)).toEqual(all.map((m) => m.id));
    listed.deadLetters.forEach((row, i) => expect(row).toMatchObject(expectedRow(all[i]!)));
    expect(listed.counts).toEqual([
      { reason: ORDERS_REASON.split('\n')[0], partition: 0, deadLetters: 1, events: 3 },
      { reason: MIXED_REASON, partition: 1, deadLetters: 1, events: 3 },
      { reason: POISON_REASON, partition: 2, deadLetters: 1, events: 0 },
    ]);
    const [orders, mixed, poison] = listed.deadLetters;
    expect(poison?.undecodable).toMatch(/Undecodable change batch/);
    expect([orders?.undecodable, mixed?.undecodable]).toEqual([null, null]);
    // The first failure happened while the test's writer recorded it; the dead letter came after.
    const firstFailedAt = Date.parse(String(orders?.firstFailedAt));
    expect(firstFailedAt).toBeGreaterThanOrEqual(made.orders.failedBetween[0] - 1000);
    expect(firstFailedAt).toBeLessThanOrEqual(made.orders.failedBetween[1] + 1000);
    expect(Date.parse(String(orders?.deadLetteredAt))).toBeGreaterThanOrEqual(firstFailedAt);
  });

  it('shows the counts and one row per dead letter as tables, reasons shortened', async () => {
    const run = await runTributary(['dead-letters', 'list'], side.env);
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('3 dead letters.');
    const rowOf = (id: string) => lines.find((line) => line.startsWith(`${id} `)) ?? '';
    const orders = made.orders.batch?.events ?? [];
    expect(rowOf(made.orders.id)).toContain(`${orders[0]?.key}..${orders[2]?.key}`);
    expect(rowOf(made.orders.id)).toContain('shop.orders');
    expect(rowOf(made.orders.id)).toContain(`${ORDERS_REASON.slice(0, 47)}…`);
    expect(rowOf(made.orders.id)).not.toContain(ORDERS_REASON.split('\n')[0]);
    expect(rowOf(made.mixed.id)).toContain('shop.orders, shop.users');
    expect(rowOf(made.poison.id)).toContain('(undecodable)');
    expect(rowOf(made.poison.id)).toContain('Undecodable change batch');
    // The counts table: one line per reason and partition.
    const countLine = lines.find((line) => line.startsWith('event 1780000020')) ?? '';
    expect(countLine.split(/\s{2,}/)).toEqual([`${MIXED_REASON.slice(0, 59)}…`, '1', '1', '3']);
    expect(run.stderr).toMatch(/tributary dead-letters show ID/);
  });

  it('narrows the list by partition, reason and time, and says when it was cut', async () => {
    const ids = async (...filters: string[]) => {
      const run = await runTributary(['dead-letters', 'list', '--json', ...filters], side.env);
      return [run.code, run.json<Listed>().deadLetters.map((d) => d.id)];
    };
    expect(await ids('--partition', '1')).toEqual([1, [made.mixed.id]]);
    expect(await ids('--reason', 'NOT BSON')).toEqual([1, [made.poison.id]]);
    expect(await ids('--reason', 'rename it')).toEqual([1, [made.orders.id]]);
    expect(await ids('--since', '1h')).toEqual([
      1,
      [made.orders.id, made.mixed.id, made.poison.id],
    ]);
    expect(await ids('--since', new Date(Date.now() + 3_600_000).toISOString())).toEqual([0, []]);
    const cut = await runTributary(['dead-letters', 'list', '--json', '--limit', '2'], side.env);
    expect(cut.json<Listed>()).toMatchObject({ total: 3, matched: 2, cut: true });
    expect(cut.stderr).toMatch(/Only the oldest 2 were read/);
  });

  it('refuses filters it cannot read with a usage error', async () => {
    for (const bad of [
      ['--partition', '3'],
      ['--partition', 'one'],
      ['--since', 'soon'],
      ['--limit', '0'],
      ['--colour'],
    ]) {
      const run = await runTributary(['dead-letters', 'list', ...bad], side.env);
      expect([bad, run.code, run.stdout]).toEqual([bad, 64, '']);
    }
  });

  it('says there are none and exits 0 on a queue without dead letters', async () => {
    const env = broker.envFor(`empty-${randomUUID().slice(0, 8)}`);
    const table = await runTributary(['dead-letters', 'list'], env);
    expect([table.code, table.stdout]).toEqual([0, 'No dead letters.\n']);
    const json = await runTributary(['dead-letters', 'list', '--json'], env);
    expect(json.code).toBe(0);
    expect(json.json<Listed>()).toMatchObject({ total: 0, matched: 0, deadLetters: [] });
  });

  it('shows one dead letter: envelope, reason, attempts, times, headers and events as Extended JSON', async () => {
    const run = await runTributary(['dead-letters', 'show', made.orders.id], side.env);
    expect([run.code, run.stderr]).toEqual([0, '']);
    const batch = made.orders.batch!;
    const keys = batch.events.map((e) => e.key);
    for (const line of [
      `Dead letter ${made.orders.id}`,
      '  partition      0',
      '  generation     1',
      `  sequence       ${batch.sequence}`,
      `  previous key   ${batch.previousKey}`,
      `  position       ${batch.position.key}`,
      '  events         3 (1 already in the lake)',
      '  attempts       2',
      `Reason: ${ORDERS_REASON.split('\n')[0]}`,
      'Description:',
      `  ${ORDERS_REASON.split('\n')[1]}`,
      `  traceparent: 00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`,
      `#1 ${keys[0]}  (already in the lake)`,
      `#3 ${keys[2]}`,
    ])
      expect(run.stdout.split('\n')).toContain(line);
    // The description goes on from the reason's first line, without repeating it.
    expect(run.stdout.split(ORDERS_REASON.split('\n')[0] ?? '')).toHaveLength(2);
    // Relaxed Extended JSON, as the lake line would read: BSON types survive.
    expect(run.stdout).toContain('"coll": "orders"');
    expect(run.stdout).toContain('"$numberDecimal": "12.50"');
    expect(run.stdout).toContain('"$numberLong": "9007199254740993"');
    expect(run.stdout).toContain('"$date": "2026-01-02T03:04:05Z"');
    expect(run.stdout.match(/"operationType": "insert"/g)).toHaveLength(3);
  });

  it('shows at most --limit events and says how many more there are', async () => {
    const table = await runTributary(
      ['dead-letters', 'show', made.orders.id, '--limit', '1'],
      side.env,
    );
    expect(table.code).toBe(0);
    expect(table.stdout.match(/"operationType": "insert"/g)).toHaveLength(1);
    expect(table.stdout).toContain('… and 2 more events (pass --limit 3 to see them all).');
    const json = await runTributary(
      ['dead-letters', 'show', made.orders.id, '--limit', '1', '--json'],
      side.env,
    );
    const shown = json.json<{
      envelope: { previousKey: string; position: { key: string } };
      events: { _tributary: { key: string }; fullDocument: { total: unknown } }[];
      moreEvents: number;
    }>();
    const batch = made.orders.batch!;
    expect(shown.envelope).toMatchObject({
      previousKey: batch.previousKey,
      position: { key: batch.position.key },
    });
    expect(shown.events.map((e) => e._tributary.key)).toEqual([batch.events[0]?.key]);
    expect(shown.events[0]?.fullDocument.total).toEqual({ $numberDecimal: '12.50' });
    expect(shown.moreEvents).toBe(2);
  });

  it('shows where a claim-checked event is kept, and a poison body for what it is', async () => {
    const mixed = await runTributary(['dead-letters', 'show', made.mixed.id, '--json'], side.env);
    const claimed = made.mixed.batch!.events[1]!;
    const events = mixed.json<{ events: { claimCheck?: { keptAt: string } }[] }>().events;
    expect(events[1]?.claimCheck?.keptAt).toBe(
      deadLetteredClaimPath((claimed as { claim: string }).claim),
    );
    const poison = await runTributary(['dead-letters', 'show', made.poison.id], side.env);
    expect(poison.code).toBe(0);
    expect(poison.stdout).toMatch(/ {2}body {11}undecodable \(4 bytes\): Undecodable change batch/);
    expect(poison.stdout).toContain('  first bytes    de ad be ef');
    expect(poison.stdout).not.toContain('Events (');
  });

  it('says an unknown id is no dead letter and how to list them, exit 1', async () => {
    const run = await runTributary(['dead-letters', 'show', 'p1.g9.s9'], side.env);
    expect([run.code, run.stdout]).toEqual([1, '']);
    expect(run.stderr).toBe(
      'tributary: No dead letter with id p1.g9.s9 — list them with `tributary dead-letters list`.\n',
    );
  });

  it('names the unreachable queue and what to do, exit 69, within seconds', async () => {
    const started = Date.now();
    const run = await runTributary(['dead-letters', 'list'], broker.unreachableEnv);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect([run.code, run.stdout]).toEqual([69, '']);
    expect(run.stderr).toMatch(
      /^tributary: Cannot reach the queue \(.*while listing the dead letters/,
    );
    expect(run.stderr).toContain(broker.setting);
    expect(run.stderr).toMatch(/then run the command again\.\n$/);
  }, 20_000);

  it('documents the exit status of list in its help', async () => {
    const run = await runTributary(['dead-letters', 'list', '--help'], side.env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Exit status: 0 when there are none .*, 1 when there are/s);
  });
});
