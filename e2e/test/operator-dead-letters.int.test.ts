import { afterEach, expect, it } from 'vitest';
import { expectExactlyOnce } from '../src/exactly-once.ts';
import { tributary } from '../src/operator.ts';
import { Pipeline } from '../src/pipeline.ts';
import { describeOnTransports } from '../src/transports.ts';

/** The parts of `dead-letters list --json` this test reads. */
interface Listed {
  readonly deadLetters: readonly {
    readonly id: string;
    readonly partition: number;
    readonly reason: string;
    readonly events: number | null;
    readonly eventsInLake: number;
    readonly namespaces: readonly string[];
  }[];
}

/** Polls `check` every 250 ms until it returns a value, or fails after `ms`. */
async function eventually<T>(check: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describeOnTransports('the operator’s dead-letter commands', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('list, show, requeue behind the checkpoint (each event lands once, as a replay) and purge dead letters made by the pipeline', async () => {
    pipeline = await Pipeline.start({ transport, lake: 'adls' });
    const { env } = pipeline;
    const adls = pipeline.requireAdls();
    // The lake refuses the files of shop.refused (an operator's naming
    // problem, fixed below): its events are dead-lettered, the rest flows.
    const refusal = adls.faults.add({
      operations: ['path.create'],
      pathContains: '/refused/',
      status: 400,
      errorCode: 'InvalidResourceName',
    });
    await pipeline.startCapture();
    pipeline.startWriter('w1');
    const refusedPartition = pipeline.partitionOfCollection('shop', 'refused');
    const refused = pipeline.client.db('shop').collection<{ _id: number; n: number }>('refused');
    await refused.insertMany(Array.from({ length: 5 }, (_, n) => ({ _id: n, n })));
    const load = pipeline.startLoad(10);
    // A poison batch, on the partition shop.orders flows through.
    const poisonPartition = pipeline.partitionOfCollection('shop', 'orders');
    await pipeline
      .transport()
      .publisher()
      .publish({
        partition: poisonPartition,
        generation: 1,
        sequence: 0,
        body: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
      });
    await load.done;
    // Until the dead letters hold the poison batch and every one of the
    // five refused events (they may come in more than one batch).
    let seen = '';
    const listed = await eventually(async () => {
      const run = await tributary(env, ['dead-letters', 'list', '--json']);
      seen = `${run.code} ${run.stdout} ${run.stderr}`;
      const letters = run.json<Listed>().deadLetters;
      const refusedEvents = letters
        .filter((l) => l.namespaces.includes('shop.refused'))
        .reduce((sum, l) => sum + (l.events ?? 0) - l.eventsInLake, 0);
      const poisoned = letters.some((l) => /Undecodable/.test(l.reason));
      return poisoned && refusedEvents === 5 ? { run, letters } : undefined;
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}; last listing: ${seen}`);
    });
    expect(listed.run.code).toBe(1);
    const poison = listed.letters.find((l) => /Undecodable/.test(l.reason));
    const refusedLetters = listed.letters.filter((l) => l.namespaces.includes('shop.refused'));
    expect(poison?.partition).toBe(poisonPartition);
    expect(refusedLetters.map((l) => l.partition)).toEqual(
      refusedLetters.map(() => refusedPartition),
    );
    expect(refusedLetters.every((l) => /InvalidResourceName/.test(l.reason))).toBe(true);
    const refusedLetter = refusedLetters[0];

    const table = await tributary(env, ['dead-letters', 'list']);
    expect(table.stdout).toContain(refusedLetter?.id);
    expect(table.stdout).toMatch(/Undecodable/);
    const shown = await tributary(env, ['dead-letters', 'show', refusedLetter?.id ?? '']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/"coll": ?"refused"/);
    const unknown = await tributary(env, ['dead-letters', 'show', 'no-such-id']);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringMatching(/no-such-id/)]);

    // Fixed: the lake takes shop.refused again. The dead letter goes back,
    // behind its partition's checkpoint now, and is written as a replay.
    adls.faults.remove(refusal);
    // More of shop.refused, written at once: the checkpoint moves on past the dead letter.
    await refused.insertMany(Array.from({ length: 3 }, (_, n) => ({ _id: 100 + n, n })));
    const requeued = await tributary(env, [
      'dead-letters',
      'requeue',
      '--reason',
      'InvalidResourceName',
      '--yes',
    ]);
    expect(requeued.code).toBe(0);

    expectExactlyOnce(await pipeline.waitUntilComplete(90_000));
    const lake = await pipeline.lake();
    const replays: string[] = [];
    for await (const entry of lake.list('shop/refused/'))
      if (entry.path.includes('-replay-')) replays.push(entry.path);
    expect(replays.length).toBeGreaterThan(0);
    // An independent read: every line of every data file, parsed as plain
    // JSON, counted by resume token against the emulator's oplog.
    const tokens = new Map<string, number>();
    for await (const entry of lake.list('')) {
      if (entry.path.startsWith('_tributary/')) continue;
      for (const line of Buffer.from(await lake.read(entry.path))
        .toString('utf8')
        .split('\n')) {
        if (line === '') continue;
        const token = (JSON.parse(line) as { _id: { _data: string } })._id._data;
        tokens.set(token, (tokens.get(token) ?? 0) + 1);
      }
    }
    const oplog = pipeline.mongo.oplogEntries().map((record) => record.resumeToken._data);
    expect(oplog.length).toBeGreaterThan(0);
    expect([...tokens.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect([...tokens.keys()].sort()).toEqual([...oplog].sort());
    // The operator's own check agrees: no duplicate, nothing missing against the source.
    const verified = await tributary(env, ['verify']);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/Change stream replayed .* \(\d+ events\)/);
    expect(verified.stdout).toMatch(/^shop\.refused +8 /m);

    // The poison batch stays poison: purge it (refused without --yes, then done).
    const unconfirmed = await tributary(env, ['dead-letters', 'purge', poison?.id ?? '']);
    expect(unconfirmed.code).toBe(1);
    expect(await pipeline.transport().deadLetters().count()).toBe(1);
    expect(unconfirmed.stderr).toMatch(/--yes/);
    const purged = await tributary(env, ['dead-letters', 'purge', poison?.id ?? '', '--yes']);
    expect(purged.code).toBe(0);
    expect(await pipeline.transport().deadLetters().count()).toBe(0);
    const empty = await tributary(env, ['dead-letters', 'list', '--json']);
    expect([empty.code, empty.json<Listed>().deadLetters]).toEqual([0, []]);
  }, 180_000);
});
