import { type CapturedEvent, claimPath, deadLetteredClaimPath, encodeClaim } from '@tributary/core';
import { type Lake, LakeError } from '@tributary/lake';
import { QueueError, REQUEUED_AT_HEADER } from '@tributary/queue';
import { describe, expect, it } from 'vitest';
import { type BatchLine, setUp, until } from './loop-harness.ts';
import {
  T0,
  batchOf,
  changeEvent,
  failingWhen,
  heartbeatAt,
  keysInLake,
  linesInLake,
  recordingLogger,
} from './support.ts';

const REQUEUED = { [REQUEUED_AT_HEADER]: '2026-12-07T08:00:00.000Z' };

/** Each key's number of lines across the whole lake. */
async function countsInLake(lake: Lake): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const key of await keysInLake(lake)) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

/** Once each. */
const once = (events: readonly CapturedEvent[]) => new Map(events.map((e) => [e.key, 1]));

/**
 * A loop over a lake that refuses to create files under `/refused/` while
 * `refusing.on` — an operator's cause, fixed before the requeue — and
 * fails other calls as `extra` says.
 */
function refusingSetUp(extra: (lake: Lake) => Lake = (lake) => lake) {
  const refusing = { on: true };
  const fixture = setUp((lake) =>
    extra(
      failingWhen(
        lake,
        'create',
        (path) => refusing.on && path.includes('/refused/'),
        () => new LakeError('INVALID_PATH', 'the lake refuses that name'),
      ),
    ),
  );
  return { ...fixture, refusing };
}

/** Puts the line's only dead letter back, as an operator's requeue does. */
function requeue(line: BatchLine, index = 0): void {
  const letter = line.deadLettered[index];
  if (!letter) throw new Error('no dead letter to requeue');
  line.push(letter.batch.body, REQUEUED, [...letter.note.eventsInLake]);
}

describe('a requeued dead letter the checkpoint has passed', () => {
  const good = changeEvent(0);
  const refused = changeEvent(1, { coll: 'refused' });
  const alsoGood = changeEvent(2);
  const after = changeEvent(3);

  it('is written as a replay: its events not in the lake land once, in a replay file of their event-time directory, and the checkpoint stays', async () => {
    const { lake, checkpoints, line, drained, refusing } = refusingSetUp();
    line.push(batchOf(3, [good, refused, alsoGood]));
    line.push(batchOf(3, [after], alsoGood.key));
    const settled = () => line.acked.length + line.deadLettered.length === 2;
    await until(settled);
    expect(line.deadLettered[0]?.note.eventsInLake).toEqual([good.key, alsoGood.key]);
    const position = (await checkpoints.readPartition(3))?.value.position;
    expect(position?.key).toBe(after.key);

    refusing.on = false;
    requeue(line);
    await drained();
    expect(line.acked).toHaveLength(2);
    expect(line.deadLettered).toHaveLength(1);
    const files = await linesInLake(lake);
    const replays = [...files.keys()].filter((path) => path.includes('-replay-'));
    expect(replays).toEqual([
      `shop/refused/year=2026/month=11/day=21/hour=13/part-0003-replay-${refused.key}.jsonl`,
    ]);
    expect(await countsInLake(lake)).toEqual(once([good, refused, alsoGood, after]));
    expect((await checkpoints.readPartition(3))?.value.position).toEqual(position);
    // Finished: no lease of the writer is left on it.
    await lake.acquireLease(replays[0] ?? '', '00000000-0000-4000-8000-000000000001');
  });

  it('writes nothing twice when the same dead letter is requeued again (a requeue repeated after failing between its two steps)', async () => {
    const { lake, line, drained, refusing } = refusingSetUp();
    line.push(batchOf(3, [good, refused, alsoGood]));
    line.push(batchOf(3, [after], alsoGood.key));
    await until(() => line.deadLettered.length === 1 && line.acked.length === 1);
    refusing.on = false;
    requeue(line);
    requeue(line);
    await drained();
    expect(line.acked).toHaveLength(3);
    expect(await countsInLake(lake)).toEqual(once([good, refused, alsoGood, after]));
  });

  it('writes none of its events the lake holds already, whatever its record says (a service dead letter records nothing)', async () => {
    const { lake, line, drained } = refusingSetUp();
    line.push(batchOf(3, [good, alsoGood]));
    line.push(batchOf(3, [after], alsoGood.key));
    // The same events, dead-lettered by the service after capture had re-sent them.
    line.push(batchOf(3, [good, alsoGood]), REQUEUED, []);
    await drained();
    expect(line.acked).toHaveLength(3);
    expect(await countsInLake(lake)).toEqual(once([good, alsoGood, after]));
    expect([...(await linesInLake(lake)).keys()].filter((p) => p.includes('-replay-'))).toEqual([]);
  });

  it('settles a requeued heartbeat the checkpoint has passed as a replay that writes nothing, and says so (the service dead-letters heartbeats too)', async () => {
    const { logger, records } = recordingLogger();
    const { lake, checkpoints, line, drained } = setUp(undefined, undefined, { logger });
    line.push(batchOf(3, [good, alsoGood]));
    line.push(batchOf(3, [after], alsoGood.key));
    await until(() => line.acked.length === 2);
    const position = (await checkpoints.readPartition(3))?.value.position;
    line.push(heartbeatAt(3, alsoGood, good.key), REQUEUED, []);
    await drained();
    expect(line.acked).toHaveLength(3);
    expect(line.deadLettered).toHaveLength(0);
    const replays = records.filter(
      (r) => r.msg === 'requeued dead letter behind the checkpoint written as a replay',
    );
    expect(replays).toMatchObject([{ partition: 3, written: 0 }]);
    expect(await countsInLake(lake)).toEqual(once([good, alsoGood, after]));
    expect((await checkpoints.readPartition(3))?.value.position).toEqual(position);
  });

  it('finishes an interrupted replay on a later attempt, appending only what each replay file lacks', async () => {
    // Refused events of three hours: three replay files; an append to the
    // second fails once for the environment, then once for a bug.
    const hours = [0, 1, 2].map((h) => changeEvent(10 + h, { coll: 'refused', t: T0 + 3600 * h }));
    const failures: string[] = [];
    const { lake, line, drained, refusing } = refusingSetUp((lake) =>
      failingWhen(
        lake,
        'append',
        (path) => path.includes('hour=14/part-0003-replay-') && failures.length < 2,
        () => {
          failures.push('append');
          return failures.length === 1
            ? new LakeError('UNAVAILABLE', 'injected outage')
            : new TypeError('injected bug');
        },
      ),
    );
    line.push(batchOf(3, [good, ...hours]));
    await until(() => line.deadLettered.length === 1);
    refusing.on = false;
    requeue(line);
    await drained();
    expect(failures).toHaveLength(2);
    expect(line.deadLettered).toHaveLength(1);
    expect(await countsInLake(lake)).toEqual(once([good, ...hours]));
    const replays = [...(await linesInLake(lake)).keys()].filter((p) => p.includes('-replay-'));
    expect(replays).toHaveLength(3);
  });

  it('goes back to the dead letters when the lake still refuses, with the same record of what is in the lake', async () => {
    const other = changeEvent(4, { coll: 'fine', t: T0 + 60 });
    const { lake, line, drained } = refusingSetUp();
    line.push(batchOf(3, [good, refused]));
    await until(() => line.deadLettered.length === 1);
    line.push(batchOf(3, [other], refused.key));
    requeue(line);
    await drained();
    expect(line.deadLettered).toHaveLength(2);
    expect(line.deadLettered[1]?.note).toEqual({
      reason: expect.stringMatching(/replay-.*refuses that name/),
      eventsInLake: [good.key],
    });
    expect(await countsInLake(lake)).toEqual(once([good, other]));
  });

  it('reads a claim-checked event from the copy kept for the dead letters, and removes that copy once the event is in the lake', async () => {
    const { lake, line, drained, refusing } = refusingSetUp();
    const big = changeEvent(5, { coll: 'refused', pad: 3_000 });
    const staged = claimPath(3, big.key);
    await lake.writeDocument(staged, encodeClaim(big.event), { ifAbsent: true });
    line.push({
      ...batchOf(3, [big]),
      events: [{ key: big.key, capturedAt: big.capturedAt, claim: staged, bytes: 3_100 }],
    });
    await until(() => line.deadLettered.length === 1);
    expect(await lake.stat(staged)).toBeUndefined();
    refusing.on = false;
    requeue(line);
    await drained();
    expect(await countsInLake(lake)).toEqual(once([big]));
    expect(await lake.stat(deadLetteredClaimPath(staged))).toBeUndefined();
  });

  it('keeps the copy of a replayed claim-checked event until the batch is acknowledged, so a redelivery after a failed acknowledgement still settles it', async () => {
    const { lake, line, drained, refusing } = refusingSetUp();
    const big = changeEvent(6, { coll: 'refused', pad: 3_000 });
    const staged = claimPath(3, big.key);
    await lake.writeDocument(staged, encodeClaim(big.event), { ifAbsent: true });
    line.push({
      ...batchOf(3, [big]),
      events: [{ key: big.key, capturedAt: big.capturedAt, claim: staged, bytes: 3_100 }],
    });
    await until(() => line.deadLettered.length === 1);
    refusing.on = false;
    let failures = 0;
    line.ackFailure = () =>
      failures++ === 0
        ? new QueueError('UNAVAILABLE', 'the answer to the ack was lost')
        : undefined;
    requeue(line);
    await drained();
    expect(failures).toBeGreaterThan(1);
    expect(line.deadLettered).toHaveLength(1);
    expect(await countsInLake(lake)).toEqual(once([big]));
    expect(await lake.stat(deadLetteredClaimPath(staged))).toBeUndefined();
  });

  it('says what a claim-checked event with neither copy left most likely means, instead of calling it removed outside Tributary', async () => {
    const { line, drained } = refusingSetUp();
    const big = changeEvent(7, { pad: 3_000 });
    line.push(batchOf(3, [changeEvent(8)]));
    // A service dead letter (no record, no kept copy) whose staged copy a checkpoint removed.
    line.push(
      {
        ...batchOf(3, [big]),
        events: [
          { key: big.key, capturedAt: big.capturedAt, claim: claimPath(3, big.key), bytes: 3_100 },
        ],
      },
      REQUEUED,
      [],
    );
    await drained();
    expect(line.deadLettered.map((d) => d.note)).toEqual([
      {
        reason: expect.stringMatching(/most likely in the lake already.*tributary verify/),
        eventsInLake: [],
      },
    ]);
  });

  it('records as in the lake only what the checkpoint covers when a replay is refused, not events past it', async () => {
    const { line, drained } = refusingSetUp();
    const behind = changeEvent(0, { coll: 'refused' });
    const written = changeEvent(1);
    const ahead = changeEvent(2);
    line.push(batchOf(3, [written]));
    line.push(batchOf(3, [behind, ahead]), REQUEUED, []);
    await drained();
    expect(line.deadLettered.map((d) => d.note.eventsInLake)).toEqual([[]]);
  });
});
