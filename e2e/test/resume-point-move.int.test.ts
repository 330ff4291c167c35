import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { runMixedLoad } from '../src/mixed-load.ts';
import { tributary } from '../src/operator.ts';
import { Pipeline } from '../src/pipeline.ts';
import { describeOnTransports, runsOnce } from '../src/transports.ts';

async function until(condition: () => Promise<boolean>, what: string, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describeOnTransports('moving capture’s resume point after its history is lost', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  // Between MongoDB, capture and the lake: once, whatever the queue.
  it.runIf(runsOnce(transport))(
    'resumes where the operator moved it: every event from there on reaches the lake once, the ones before it are missing, and the marker says so',
    async () => {
      const p = await Pipeline.start({ transport, lake: 'local', oplogMaxEntries: 100 });
      pipeline = p;
      const first = await p.startCapture();
      p.startWriter('w1');
      await runMixedLoad(p.client, { rounds: 1 });
      await p.waitUntilComplete();
      expect((await first.stop('SIGTERM')).code).toBe(0);

      // While capture is down the oplog rolls past its checkpoints: it stops with lost history.
      await runMixedLoad(p.client, { rounds: 6, firstRound: 1 });
      const lost = await p.startCapture();
      expect((await lost.exited).code).toBe(1);
      expect(lost.output()).toMatch(/tributary resume-point set/);

      // The operator accepts the gap: capture resumes at the next whole second.
      const newest = Math.max(...p.mongo.oplogEntries().map((r) => r.clusterTime.t));
      const to = newest + 1;
      await until(async () => Date.now() >= to * 1000, 'the clock passes the new point');
      const moved = await tributary(p.env, [
        'resume-point',
        'set',
        '--time',
        new Date(to * 1000).toISOString(),
        '--yes',
      ]);
      expect(moved.stderr).toBe('');
      expect(moved.code).toBe(0);
      expect(moved.stdout).toContain('This is a GAP');

      await p.startCapture();
      await runMixedLoad(p.client, { rounds: 2, firstRound: 7 });
      const source = p.mongo.oplogEntries();
      const after = source.filter((r) => r.clusterTime.t >= to).map((r) => r.resumeToken._data);
      const before = new Set(
        source.filter((r) => r.clusterTime.t < to).map((r) => r.resumeToken._data),
      );
      expect(after.length).toBeGreaterThan(0);
      await until(async () => {
        const { missing } = (await p.verify()).comparison;
        return after.every((token) => !missing.includes(token));
      }, 'every event after the new point is in the lake');
      const { comparison } = await p.verify();
      // (Lines the oplog no longer knows, `unexpected`, are the first round's: it rolled past them.)
      expect(comparison.duplicated).toEqual([]);
      // What is missing is what the operator gave up, and nothing after it.
      expect(comparison.missing.length).toBeGreaterThan(0);
      expect(comparison.missing.every((token) => before.has(token))).toBe(true);

      const markers = join(p.env.TRIBUTARY_LAKE_DIR ?? '', '_tributary/markers');
      const [marker, ...more] = await readdir(markers);
      expect(more).toEqual([]);
      expect(JSON.parse(await readFile(join(markers, marker ?? ''), 'utf8'))).toMatchObject({
        marker: 'resume-point-moved',
        kind: 'gap',
        to: { clusterTime: { t: to, i: 0 } },
      });
      // Once every checkpoint is past it, the floor no longer changes anything.
      await until(async () => {
        const show = await tributary(p.env, ['resume-point', 'show', '--json']);
        return show.json<{ override: { state: string } }>().override.state === 'passed';
      }, 'the checkpoints pass the floor');
    },
  );
});
