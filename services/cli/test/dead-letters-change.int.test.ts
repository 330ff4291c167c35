import { deadLetteredClaimPath } from '@tributary/core';
import { type DeliveredBatch, REQUEUED_AT_HEADER } from '@tributary/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Broker,
  type MadeDeadLetter,
  type StandardDeadLetters,
  WriterSide,
  makeStandardDeadLetters,
  openBullmqBroker,
  openServiceBusBroker,
} from './dead-letters-fixture.ts';
import { runTributary } from './run-tributary.ts';

/** Each case makes its own dead letters (a second or two on Service Bus) and runs several commands. */
const TEST_TIMEOUT_MS = 20_000;

/** A queue of a test's own with the standard dead letters. */
interface Pipeline {
  readonly side: WriterSide;
  readonly made: StandardDeadLetters;
  readonly env: Record<string, string>;
  /** The ids of the dead letters as the transport itself lists them, sorted. */
  deadLetterIds(): Promise<string[]>;
  /** The ids it was made with, sorted. */
  readonly allIds: readonly string[];
}

/** Asserts that `delivered` is `original` put back by an operator. */
function expectRequeued(delivered: DeliveredBatch | undefined, original: MadeDeadLetter): void {
  expect(delivered?.partition).toBe(original.partition);
  expect(Buffer.from(delivered?.body ?? [])).toEqual(Buffer.from(original.body));
  expect(Date.parse(delivered?.headers[REQUEUED_AT_HEADER] ?? '')).toBeGreaterThan(
    Date.now() - 60_000,
  );
  expect(delivered?.headers.traceparent).toMatch(/^00-c{32}-d{16}-01$/);
  expect(delivered?.eventsInLake).toEqual(original.eventsInLake);
}

describe.each([
  ['BullMQ', openBullmqBroker],
  ['Service Bus', openServiceBusBroker],
])('tributary dead-letters requeue and purge on %s', (_, openBroker) => {
  let broker: Broker;
  const opened: WriterSide[] = [];

  beforeAll(async () => {
    broker = await openBroker();
  }, 30_000);
  afterAll(async () => {
    for (const side of opened.splice(0)) await side.close();
    await broker?.close();
  });

  async function pipeline(): Promise<Pipeline> {
    const side = await WriterSide.open(broker);
    opened.push(side);
    const made = await makeStandardDeadLetters(side);
    return {
      side,
      made,
      env: side.env,
      deadLetterIds: async () =>
        (await side.transport.deadLetters().list({ limit: 100 })).map((l) => l.id).sort(),
      allIds: [made.orders.id, made.mixed.id, made.poison.id].sort(),
    };
  }

  describe('refusals, which change nothing', () => {
    let p: Pipeline;
    beforeAll(async () => {
      p = await pipeline();
    }, TEST_TIMEOUT_MS);

    it('refuses conflicting or missing selections as usage errors', async () => {
      const { orders, mixed, poison } = p.made;
      for (const argv of [
        ['requeue'],
        ['requeue', orders.id, '--all'],
        ['requeue', orders.id, '--partition', '0', '--yes'],
        ['requeue', '--partition', 'x', '--yes'],
        ['requeue', orders.id, mixed.id],
        ['purge', '--yes'],
        ['purge', '--partition', '1', '--yes'],
        ['purge', poison.id, '--all', '--yes'],
        ['purge', poison.id, '--reason', 'x', '--yes'],
      ]) {
        const run = await runTributary(['dead-letters', ...argv], p.env);
        expect([argv, run.code, run.stdout]).toEqual([argv, 64, '']);
      }
      expect(await p.deadLetterIds()).toEqual(p.allIds);
    });

    it('says an unknown id is no dead letter, for requeue and purge alike, exit 1', async () => {
      for (const verb of ['requeue', 'purge']) {
        const run = await runTributary(['dead-letters', verb, 'p0.g7.s7', '--yes'], p.env);
        expect([run.code, run.stdout]).toEqual([1, '']);
        expect(run.stderr).toContain(
          'No dead letter with id p0.g7.s7 — list them with `tributary dead-letters list`.',
        );
      }
      expect(await p.deadLetterIds()).toEqual(p.allIds);
    });

    it('asks before requeueing several: refused, or with no terminal to ask on, nothing is requeued', async () => {
      const noTerminal = await runTributary(['dead-letters', 'requeue', '--all'], p.env);
      expect([noTerminal.code, noTerminal.stdout]).toEqual([1, '']);
      expect(noTerminal.stderr).toMatch(/Nothing was requeued: not confirmed\..*--yes/);
      const refused = await runTributary(['dead-letters', 'requeue', '--all'], p.env, {
        answers: ['n'],
      });
      expect([refused.code, refused.stdout]).toEqual([1, '']);
      expect(await p.deadLetterIds()).toEqual(p.allIds);
    });

    it('asks before purging even one: refused, or with no terminal and no --yes, nothing is purged', async () => {
      const noTerminal = await runTributary(['dead-letters', 'purge', p.made.poison.id], p.env);
      expect([noTerminal.code, noTerminal.stdout]).toEqual([1, '']);
      expect(noTerminal.stderr).toMatch(/Nothing was purged: not confirmed\..*--yes/);
      const refused = await runTributary(['dead-letters', 'purge', p.made.poison.id], p.env, {
        answers: ['no'],
      });
      expect([refused.code, refused.stdout]).toEqual([1, '']);
      const all = await runTributary(['dead-letters', 'purge', '--all'], p.env);
      expect(all.code).toBe(1);
      expect(await p.deadLetterIds()).toEqual(p.allIds);
    });

    it(
      'names the unreachable queue and what to do, exit 69, within seconds',
      async () => {
        const started = Date.now();
        const run = await runTributary(
          ['dead-letters', 'requeue', 'p0.g1.s1', '--yes'],
          broker.unreachableEnv,
        );
        expect(Date.now() - started).toBeLessThan(15_000);
        expect([run.code, run.stdout]).toEqual([69, '']);
        expect(run.stderr).toMatch(
          /^tributary: Cannot reach the queue \(.*while reading dead letter p0\.g1\.s1/,
        );
        expect(run.stderr).toContain(broker.setting);
        expect(run.stderr).toMatch(/then run the command again\.\n$/);
      },
      TEST_TIMEOUT_MS,
    );
  });

  it(
    'requeues one dead letter: back on its partition, marked and with its record of the lake, gone from the dead letters',
    async () => {
      const p = await pipeline();
      const run = await runTributary(['dead-letters', 'requeue', p.made.orders.id], p.env);
      expect([run.code, run.stdout]).toEqual([
        0,
        `Requeued ${p.made.orders.id} (partition 0, 3 events, 1 already in the lake)\n`,
      ]);
      expectRequeued(await p.side.take(0), p.made.orders);
      expect(await p.deadLetterIds()).toEqual([p.made.mixed.id, p.made.poison.id].sort());
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'requeues every dead letter once the operator says yes, and reports each',
    async () => {
      const p = await pipeline();
      const run = await runTributary(['dead-letters', 'requeue', '--all', '--json'], p.env, {
        answers: ['y'],
      });
      expect(run.code).toBe(0);
      const requeued = run.json<{ requeued: { id: string }[]; missing: string[] }>();
      expect(requeued.requeued.map((r) => r.id).sort()).toEqual(p.allIds);
      expect(requeued.missing).toEqual([]);
      expect(await p.deadLetterIds()).toEqual([]);
      expectRequeued(await p.side.take(0), p.made.orders);
      expectRequeued(await p.side.take(1), p.made.mixed);
      expectRequeued(await p.side.take(2), p.made.poison);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'requeues those of one reason or partition, asking nothing for one or with --yes',
    async () => {
      const p = await pipeline();
      const byReason = await runTributary(
        ['dead-letters', 'requeue', '--reason', 'NESTING', '--yes'],
        p.env,
      );
      expect([byReason.code, byReason.stdout]).toEqual([
        0,
        `Requeued ${p.made.mixed.id} (partition 1, 3 events, 0 already in the lake)\n`,
      ]);
      expectRequeued(await p.side.take(1), p.made.mixed);
      const byPartition = await runTributary(
        ['dead-letters', 'requeue', '--partition', '2'],
        p.env,
      );
      expect(byPartition.code).toBe(0);
      expectRequeued(await p.side.take(2), p.made.poison);
      const none = await runTributary(['dead-letters', 'requeue', '--partition', '2'], p.env);
      expect([none.code, none.stdout]).toEqual([
        0,
        'No dead letters on partition 2: nothing to requeue.\n',
      ]);
      expect(await p.deadLetterIds()).toEqual([p.made.orders.id]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'purges a dead letter once confirmed: gone from the dead letters and not back on its partition',
    async () => {
      const p = await pipeline();
      const run = await runTributary(['dead-letters', 'purge', p.made.poison.id], p.env, {
        answers: ['yes'],
      });
      expect([run.code, run.stdout]).toEqual([
        0,
        `Purged ${p.made.poison.id} (partition 2, undecodable body)\n`,
      ]);
      expect(await p.deadLetterIds()).toEqual([p.made.orders.id, p.made.mixed.id].sort());
      expect(await p.side.take(2, 1000)).toBeUndefined();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'purges every dead letter of a partition with --all --yes and says where claim-checked events stay',
    async () => {
      const p = await pipeline();
      const run = await runTributary(
        ['dead-letters', 'purge', '--all', '--partition', '1', '--yes'],
        p.env,
      );
      expect([run.code, run.stdout]).toEqual([
        0,
        `Purged ${p.made.mixed.id} (partition 1, 3 events, 0 already in the lake)\n`,
      ]);
      const claimed = p.made.mixed.batch?.events[1] as { claim: string };
      expect(run.stderr).toContain(deadLetteredClaimPath(claimed.claim));
      expect(await p.deadLetterIds()).toEqual([p.made.orders.id, p.made.poison.id].sort());
    },
    TEST_TIMEOUT_MS,
  );
});
