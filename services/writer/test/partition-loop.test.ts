import { claimPath, deadLetteredClaimPath, encodeClaim } from '@tributary/core';
import { LakeError } from '@tributary/lake';
import { QueueError } from '@tributary/queue';
import { describe, expect, it } from 'vitest';
import { InFlightBudget } from '../src/in-flight-budget.ts';
import { setUp, until } from './loop-harness.ts';
import {
  batchOf,
  changeEvent,
  failingWhen,
  heartbeatAt,
  keysInLake,
  recordingLogger,
} from './support.ts';

const events = Array.from({ length: 8 }, (_, n) => changeEvent(n));
const keys = (from: number, to: number) => events.slice(from, to).map((e) => e.key);

describe('a partition loop', () => {
  it('dead-letters an undecodable batch with its reason, then heals the gap it leaves from capture’s re-send', async () => {
    const { lake, checkpoints, line, drained } = setUp();
    line.push(batchOf(3, events.slice(0, 2)));
    line.push(new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    // The batch after the poison names the poison's last key, which no
    // writer ever saw: it follows a gap, and is dropped and reported.
    line.push(batchOf(3, events.slice(4), events[3]?.key));
    await until(async () => (await checkpoints.readGaps()).length === 1);
    expect(await checkpoints.readGaps()).toEqual([
      expect.objectContaining({
        partition: 3,
        afterKey: events[1]?.key,
        missingUpTo: events[3]?.key,
      }),
    ]);
    // Capture answers in a new generation, from the checkpoint.
    line.push(batchOf(3, events.slice(2, 4), events[1]?.key, 2));
    line.push(batchOf(3, events.slice(4), events[3]?.key, 2));
    await drained();
    expect(line.deadLettered).toEqual([
      {
        batch: expect.anything(),
        note: { reason: expect.stringMatching(/Undecodable change batch/), eventsInLake: [] },
      },
    ]);
    expect(await keysInLake(lake)).toEqual(keys(0, 8));
    expect(await checkpoints.readGaps()).toEqual([]);
  });

  it('dead-letters a batch that keeps failing for a reason of its own, recording what reached the lake, and the chain goes on from it', async () => {
    const bug = () => new TypeError('a bug in the writer');
    const { lake, checkpoints, line, drained } = setUp((lake) =>
      failingWhen(lake, 'append', (path) => path.includes('/buggy/'), bug),
    );
    const good = changeEvent(0);
    const mixed = [changeEvent(1), changeEvent(2, { coll: 'buggy' })];
    const after = changeEvent(3);
    line.push(batchOf(3, [good]));
    line.push(batchOf(3, mixed, good.key));
    line.push(batchOf(3, [after], mixed[1]?.key));
    await drained();
    expect(line.deadLettered).toEqual([
      {
        batch: expect.objectContaining({ failedAttempts: 2 }),
        note: {
          reason: expect.stringMatching(/^failed 3 times: .*a bug in the writer/),
          eventsInLake: [mixed[0]?.key],
        },
      },
    ]);
    // The batch after the dead letter names its last key: it continues the chain.
    expect(await keysInLake(lake)).toEqual([good.key, mixed[0]?.key, after.key]);
    expect(await checkpoints.readGaps()).toEqual([]);
  });

  it('accepts after a dead letter only the batch that follows the dead letter’s last key', async () => {
    const bug = () => new TypeError('a bug in the writer');
    const { lake, checkpoints, line, drained } = setUp((lake) =>
      failingWhen(lake, 'append', (path) => path.includes('/buggy/'), bug),
    );
    line.push(batchOf(3, [changeEvent(0, { coll: 'buggy' })]));
    // Batch 1–2 was lost: this one does not follow the dead letter.
    line.push(batchOf(3, events.slice(3, 4), events[2]?.key));
    await until(async () => (await checkpoints.readGaps()).length === 1);
    await drained();
    expect(line.deadLettered).toHaveLength(1);
    expect(await keysInLake(lake)).toEqual([]);
  });

  it('writes the rest of a batch at once when the lake refuses one file, and dead-letters the batch saying which events reached the lake', async () => {
    const refusing = () => new LakeError('INVALID_PATH', 'the lake refuses that name');
    const { lake, line, drained } = setUp((lake) =>
      failingWhen(lake, 'create', (path) => path.includes('/refused/'), refusing),
    );
    const batch = [changeEvent(0), changeEvent(1, { coll: 'refused' }), changeEvent(2)];
    line.push(batchOf(3, batch));
    line.push(batchOf(3, [changeEvent(3)], batch[2]?.key));
    await drained();
    expect(line.deadLettered).toEqual([
      {
        batch: expect.objectContaining({ failedAttempts: 0 }),
        note: {
          reason: expect.stringMatching(/refuses that name/),
          eventsInLake: [batch[0]?.key, batch[2]?.key],
        },
      },
    ]);
    expect(await keysInLake(lake)).toEqual([batch[0]?.key, batch[2]?.key, changeEvent(3).key]);
  });

  it('keeps the staged copy of a dead-lettered claim-checked event, since the checkpoint moves past it', async () => {
    const refusing = () => new LakeError('INVALID_PATH', 'the lake refuses that name');
    const { lake, line, drained } = setUp((lake) =>
      failingWhen(lake, 'create', (path) => path.includes('/refused/'), refusing),
    );
    const big = changeEvent(0, { coll: 'refused', pad: 3_000 });
    const path = claimPath(3, big.key);
    await lake.writeDocument(path, encodeClaim(big.event), { ifAbsent: true });
    line.push({
      ...batchOf(3, [big]),
      events: [{ key: big.key, capturedAt: big.capturedAt, claim: path, bytes: 3_100 }],
    });
    await drained();
    expect(line.deadLettered.map((d) => d.note.eventsInLake)).toEqual([[]]);
    expect(await lake.stat(path)).toBeUndefined();
    const kept = await lake.read(deadLetteredClaimPath(path));
    expect(Buffer.from(kept)).toEqual(Buffer.from(encodeClaim(big.event)));
  });

  it('dead-letters nothing while it cannot keep the copy of a claim-checked event, and gives the batch back when asked to hand over', async () => {
    const refusing = () => new LakeError('INVALID_PATH', 'the lake refuses that name');
    let throttled = 0;
    const { lake, line, loop, running } = setUp((lake) =>
      failingWhen(
        failingWhen(lake, 'create', (path) => path.includes('/refused/'), refusing),
        'writeDocument',
        (path) => path === deadLetteredClaimPath(claimPath(3, big.key)),
        () => {
          throttled += 1;
          return new LakeError('THROTTLED', 'the lake is busy');
        },
      ),
    );
    const big = changeEvent(0, { coll: 'refused', pad: 3_000 });
    const path = claimPath(3, big.key);
    await lake.writeDocument(path, encodeClaim(big.event), { ifAbsent: true });
    line.push({
      ...batchOf(3, [big]),
      events: [{ key: big.key, capturedAt: big.capturedAt, claim: path, bytes: 3_100 }],
    });
    await until(() => throttled >= 2);
    line.revoke();
    await running;
    expect(loop.partition).toBe(3);
    // Dead-lettered now, the event's only copy would be removed once the
    // checkpoint passed it: the batch stays on the queue for the next owner.
    expect([line.deadLettered.length, line.acked.length, line.waiting]).toEqual([0, 0, 1]);
    expect(await lake.stat(path)).toBeDefined();
    expect(line.released).toBe(true);
  });

  it.each([
    ['refused credentials (an expired SAS)', 'UNAUTHORIZED'],
    ['throttling', 'THROTTLED'],
    ['a conflict nobody recognises (an unknown 409)', 'UNEXPECTED'],
  ] as const)(
    'never dead-letters for %s: the batch waits, uncounted, and lands once the lake works',
    async (_what, code) => {
      let failing = true;
      const { lake, line, loop, drained } = setUp((lake) =>
        failingWhen(
          lake,
          'append',
          () => failing,
          () => new LakeError(code, `lake says ${code}`),
        ),
      );
      line.push(batchOf(3, events.slice(0, 2)));
      await new Promise((r) => setTimeout(r, 150));
      expect([line.deadLettered.length, line.acked.length, line.released]).toEqual([0, 0, false]);
      expect(loop.partition).toBe(3);
      failing = false;
      await drained();
      expect(line.acked.map((b) => b.failedAttempts)).toEqual([0]);
      expect(await keysInLake(lake)).toEqual(keys(0, 2));
    },
  );

  it('waits out a queue that fails to deliver, keeping the partition and no room in memory, and writes on once it delivers again', async () => {
    const budget = new InFlightBudget(1, 1 << 20);
    const { logger, records } = recordingLogger();
    const reported: string[] = [];
    const { lake, line, loop, readiness, drained } = setUp(undefined, budget, {
      logger,
      onQueueFailure: (reason) => reported.push(reason),
    });
    line.deliveryFailure = () =>
      new QueueError('UNAVAILABLE', 'reading partition 3: Service Bus failed (link detached)');
    line.push(batchOf(3, events.slice(0, 2)));
    await until(() => line.deliveryFailures >= 5 || line.released);
    expect([line.released, line.acked.length, budget.usage.batches]).toEqual([false, 0, 0]);
    expect(loop.partition).toBe(3);
    // What `/readyz` shows for the queue while it lasts (see `startWriter`).
    expect(reported.at(-1)).toMatch(
      /^the queue \(Redis or Service Bus.*retrying with backoff: reading partition 3: Service Bus failed \(link detached\)$/,
    );
    line.deliveryFailure = undefined;
    await drained();
    expect(line.released).toBe(true);
    expect(line.acked.map((b) => b.failedAttempts)).toEqual([0]);
    expect(await keysInLake(lake)).toEqual(keys(0, 2));
    // Each failed fetch was reported, none after the queue delivered again.
    expect(reported).toHaveLength(line.deliveryFailures);
    expect(readiness.reasons()).toEqual([]);
    expect(records).toContainEqual(
      expect.objectContaining({ level: 40, partition: 3, dependency: 'queue', attempts: 1 }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({
        level: 30,
        partition: 3,
        attempts: line.deliveryFailures,
        msg: 'the failing dependency works again; writing goes on',
      }),
    );
    expect(records.map((r) => r.msg)).not.toContain(
      'partition stopped on an unexpected error; releasing it',
    );
  });

  it('gives the partition up at once when the queue says another writer owns it', async () => {
    const reported: string[] = [];
    const { line, running } = setUp(undefined, undefined, {
      onQueueFailure: (reason) => reported.push(reason),
    });
    line.deliveryFailure = () => new QueueError('OWNERSHIP_LOST', 'the session lock is gone');
    await running;
    expect([line.released, line.deliveryFailures, reported]).toEqual([true, 1, []]);
  });

  it('heals a batch lost from the queue without any sign from the broker: drops what follows, reports once per generation, is stuck until re-sent', async () => {
    const { lake, checkpoints, line, loop, readiness, drained } = setUp();
    line.push(batchOf(3, events.slice(0, 2)));
    // events 2–3 were lost (Redis restarted from a stale file, a message expired)
    line.push(batchOf(3, events.slice(4, 6), events[3]?.key));
    line.push(heartbeatAt(3, events[5] ?? events[0]!, events[5]?.key ?? ''));
    await until(() => line.waiting === 0);
    const [report] = await checkpoints.readGaps();
    expect(report).toMatchObject({
      afterKey: events[1]?.key,
      missingUpTo: events[3]?.key,
      generation: 1,
    });
    expect(loop.openGap).toMatchObject({ afterKey: events[1]?.key });
    expect(readiness.reasons()).toEqual([
      expect.stringMatching(/^partition 3: waiting since .* lost from the queue/),
    ]);
    if (report) await checkpoints.clearGap(report);
    // Still generation 1, within half a minute: no new report.
    line.push(batchOf(3, events.slice(6, 7), events[5]?.key));
    await until(() => line.waiting === 0);
    expect(await checkpoints.readGaps()).toEqual([]);
    // The re-sent batches of a newer generation were lost too: ask again.
    line.push(batchOf(3, events.slice(6, 7), events[5]?.key, 2));
    await until(async () => (await checkpoints.readGaps()).length === 1);
    expect((await checkpoints.readGaps())[0]?.generation).toBe(2);
    line.push(batchOf(3, events.slice(2, 8), events[1]?.key, 3));
    await drained();
    expect(await keysInLake(lake)).toEqual(keys(0, 8));
    expect(readiness.reasons()).toEqual([]);
    expect(loop.openGap).toBeUndefined();
    expect(await checkpoints.readGaps()).toEqual([]);
  });

  it('finishes the batch in hand when asked to give the partition back, takes no other, then releases', async () => {
    let hold: () => void = () => {};
    const held = new Promise<void>((resolve) => (hold = resolve));
    let appending = false;
    const { lake, line, running } = setUp(
      (lake) =>
        new Proxy(lake, {
          get(target, property) {
            const value = Reflect.get(target, property) as (...a: unknown[]) => Promise<unknown>;
            if (property !== 'append')
              return typeof value === 'function' ? value.bind(target) : value;
            return async (...args: unknown[]) => {
              appending = true;
              await held;
              return value.apply(target, args);
            };
          },
        }),
    );
    line.push(batchOf(3, events.slice(0, 2)));
    line.push(batchOf(3, events.slice(2, 4), events[1]?.key));
    await until(() => appending);
    line.revoke();
    await new Promise((r) => setTimeout(r, 30));
    expect(line.released).toBe(false);
    hold();
    await running;
    expect(line.acked).toHaveLength(1);
    expect(line.waiting).toBe(1);
    expect(line.released).toBe(true);
    expect(await keysInLake(lake)).toEqual(keys(0, 2));
  });

  it('reserves room in memory before it takes each batch from the queue', async () => {
    const budget = new InFlightBudget(1, 1 << 20);
    const { line, drained } = setUp(undefined, budget);
    for (let b = 0; b < 4; b += 1)
      line.push(batchOf(3, events.slice(2 * b, 2 * b + 2), events[2 * b - 1]?.key ?? ''));
    await drained();
    expect([line.unreserved, line.acked.length, budget.usage.batches]).toEqual([0, 4, 0]);
  });
});
