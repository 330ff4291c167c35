import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CheckpointError,
  type CheckpointStore,
  PRESENCE_FRESH_MS,
  createLakeCheckpointStore,
} from '@tributary/checkpoint';
import { formatOrderingKey } from '@tributary/core';
import { type Lake, createLocalLake } from '@tributary/lake';
import { Timestamp } from 'bson';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResumePointReport } from '../src/resume-point/resume-point-report.ts';
import { Systems } from '../src/systems.ts';
import { runTributary } from './run-tributary.ts';

/** 2026-12-07T12:00:00Z, in seconds: where the partitions' checkpoints stand. */
const T0 = 1_796_644_800;
const NOW = (T0 + 3600) * 1000;
const now = () => NOW;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
const keyAt = (seconds: number, i = 1) => formatOrderingKey({ t: seconds, i, n: 0 });
/** A resume token as MongoDB makes them: 0x82, then the clusterTime's seconds and increment. */
const tokenAt = (seconds: number, i = 1) => ({
  _data: `82${seconds.toString(16).padStart(8, '0')}${i.toString(16).padStart(8, '0')}2B0229296E04`,
});

/**
 * `tributary resume-point` over a local lake holding the checkpoints, as an
 * operator runs it next to a stopped capture. Nothing else is contacted:
 * the queue's Redis URL points nowhere.
 */
describe('tributary resume-point', () => {
  let dir: string;
  let lake: Lake;
  let store: CheckpointStore;
  let env: Record<string, string>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-resume-point-'));
    lake = createLocalLake({ rootDir: dir });
    store = createLakeCheckpointStore({ lake });
    env = {
      TRIBUTARY_TRANSPORT: 'bullmq',
      REDIS_URL: 'redis://127.0.0.1:1',
      TRIBUTARY_PARTITION_COUNT: '2',
      TRIBUTARY_LAKE: 'local',
      TRIBUTARY_LAKE_DIR: dir,
      TRIBUTARY_CHECKPOINT_STORE: 'lake',
    };
  });
  afterEach(async () => {
    await store.close();
    await lake.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Capture ran once, and stopped with partition 1 behind partition 0. */
  async function captureStopped(): Promise<void> {
    await store.writeOriginIfAbsent({
      startAtOperationTime: new Timestamp({ t: T0 - 600, i: 1 }),
      createdAt: new Date(),
    });
    for (const [partition, seconds] of [
      [0, T0 + 30],
      [1, T0],
    ] as const)
      await store.writePartition(
        {
          partition,
          position: { key: keyAt(seconds), token: tokenAt(seconds) },
          openFiles: [],
          writerId: 'w',
          updatedAt: new Date(),
        },
        undefined,
      );
  }

  const markers = async () => readdir(join(dir, '_tributary/markers')).catch(() => []);
  /** Waits no time: records what was waited for, and lets `meanwhile` act as a capture would. */
  let waited: number[];
  let meanwhile: () => Promise<void>;
  beforeEach(() => {
    waited = [];
    meanwhile = async () => {};
  });
  const sleep = async (ms: number) => {
    waited.push(ms);
    await meanwhile();
  };
  const set = (args: string[], answers?: string[]) =>
    runTributary(['resume-point', 'set', ...args], env, {
      now,
      sleep,
      ...(answers ? { answers } : {}),
    });

  it('shows the oldest checkpoint as the resume point, with the partition holding it back', async () => {
    await captureStopped();
    const run = await runTributary(['resume-point', 'show', '--json'], env, { now });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = run.json<ResumePointReport>();
    expect(report.resumePoint).toEqual({
      source: 'checkpoint',
      partition: 1,
      reads: 'after',
      key: keyAt(T0),
      clusterTime: { at: '2026-12-07T12:00:00.000Z', t: T0, i: 1, agoMs: 3_600_000 },
      token: tokenAt(T0),
    });
    expect(report.override).toBeNull();
    expect(report.capture).toBeNull();
    expect(report.oplogNote).toMatch(/MONGODB_URI/);
    const text = await runTributary(['resume-point', 'show'], env, { now });
    expect(text.stdout).toContain(`after ${keyAt(T0)}, partition 1's checkpoint`);
    expect(text.stdout).toContain(`${iso(T0)} (Timestamp ${T0}, 1), 1 h 00 m ago`);
    expect(text.stdout).toMatch(/^Capture +not running \(no presence record\)$/m);
  });

  it('shows no resume point before capture first started, and refuses to move it', async () => {
    const show = await runTributary(['resume-point', 'show'], env, { now });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('capture has not started yet');
    const run = await set(['--time', iso(T0), '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Capture has never started');
  });

  it.each([
    [['--time', '2026-12-07T12:10:00Z', '--token', '8200'], 'Give --time or --token, not both'],
    [[], 'Say where capture resumes'],
    [['--time', '2026-12-07 12:10'], '--time 2026-12-07 12:10 is not an ISO 8601 time with a zone'],
    [['--time', '2026-12-07T12:10:00'], 'is not an ISO 8601 time with a zone'],
    [['--time', '2027-01-01T00:00:00Z'], 'is in the future'],
    [['--token', 'zz'], '--token zz is not a change stream resume token'],
    [['--token', '{"_data": '], '--token is not a resume token'],
    [['--token', '{"_data":"8200"}'], 'is not a change stream resume token'],
    [['--at', 'now'], "Unknown option '--at'"],
  ])('refuses %j with a usage error, before anything is read', async (args, message) => {
    const run = await set([...args, '--yes']);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain(message);
    expect(await markers()).toEqual([]);
  });

  it('refuses while capture reports itself running, naming it, and moves once its record is stale', async () => {
    await captureStopped();
    await store.writePresence({
      captureId: 'capture-host-7',
      startedAt: new Date(NOW - 60_000),
      reportedAt: new Date(NOW - 4_000),
    });
    const refused = await set(['--time', iso(T0 + 60), '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Capture capture-host-7 is running (it reported 4.0 s ago)');
    expect(refused.stderr).toContain('Stop capture first');
    expect(refused.stderr).toContain('If it crashed, wait until its last report is 15.0 s old');
    expect(await markers()).toEqual([]);
    expect(await store.readResumeOverride()).toBeUndefined();

    // A capture that crashed left its record; once stale, the move goes ahead.
    await store.writePresence({
      captureId: 'capture-host-7',
      startedAt: new Date(NOW - 60_000),
      reportedAt: new Date(NOW - PRESENCE_FRESH_MS),
    });
    const show = await runTributary(['resume-point', 'show'], env, { now });
    expect(show.stdout).toContain('not running: capture-host-7 last reported 15.0 s ago');
    const moved = await set(['--time', iso(T0 + 60), '--yes']);
    expect(moved.code).toBe(0);
    // It looked stale by this clock only: the command made sure it did not report again.
    expect(waited).toEqual([7_500]);
    expect(moved.stderr).toContain(
      "Capture capture-host-7 last reported 15.0 s ago by this machine's clock. Waiting 7.5 s (one presence interval and a margin)",
    );
    expect(moved.stderr).toContain(
      'It did not report again in 7.5 s: capture capture-host-7 is not running.',
    );
  });

  it('refuses when a capture whose clock is behind reports again while it waits, though its record looked stale', async () => {
    await captureStopped();
    // Capture's clock is a minute behind this machine's: its fresh report looks a minute old.
    const skewMs = 60_000;
    const report = (at: number) =>
      store.writePresence({
        captureId: 'capture-skewed',
        startedAt: new Date(NOW - skewMs - 600_000),
        reportedAt: new Date(at - skewMs),
      });
    await report(NOW);
    meanwhile = () => report(NOW + 5_000);
    const refused = await set(['--time', iso(T0 + 60), '--yes']);
    expect(refused.code).toBe(1);
    expect(waited).toEqual([7_500]);
    expect(refused.stderr).toContain("last reported 1 m 00 s ago by this machine's clock");
    expect(refused.stderr).toContain(
      "Capture capture-skewed is running: it reported again while this command waited 7.5 s, although its last report looked 1 m 00 s old (capture's clock is behind this machine's). Nothing was changed.",
    );
    expect(await markers()).toEqual([]);
    expect(await store.readResumeOverride()).toBeUndefined();
  });

  it('moves without waiting when no capture left a presence record', async () => {
    await captureStopped();
    const moved = await set(['--time', iso(T0 + 60), '--yes']);
    expect(moved.code).toBe(0);
    expect(waited).toEqual([]);
    expect(moved.stderr).not.toContain('Waiting');
  });

  it('changes nothing without confirmation: no terminal, or the operator says no', async () => {
    await captureStopped();
    const noTerminal = await set(['--time', iso(T0 + 60)]);
    expect(noTerminal.code).toBe(1);
    expect(noTerminal.stdout).toContain('This is a GAP');
    expect(noTerminal.stderr).toContain('not confirmed');
    expect(noTerminal.stderr).toContain('--yes');
    const no = await set(['--time', iso(T0 + 60)], ['n']);
    expect(no.code).toBe(1);
    expect(await markers()).toEqual([]);
    expect(await store.readResumeOverride()).toBeUndefined();
    const yes = await set(['--time', iso(T0 + 60)], ['y']);
    expect(yes.code).toBe(0);
    expect(await markers()).toHaveLength(1);
  });

  it('moves it forward as a gap: writes the marker to the lake, then stores the floor capture honours', async () => {
    await captureStopped();
    const run = await set(['--time', iso(T0 + 20), '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `from  partition 1's checkpoint ${keyAt(T0)}, ${iso(T0)} (Timestamp ${T0}, 1)`,
    );
    expect(run.stdout).toContain(`to    ${iso(T0 + 20)} (Timestamp ${T0 + 20}, 0), inclusive`);
    expect(run.stdout).toContain('This is a GAP');
    expect(run.stdout).toContain('for partition 1 (whose checkpoints stand before the new point)');
    expect(run.stdout).toContain('Start it now.');

    // The marker, read from the disk as any reader of the lake would.
    expect(await markers()).toEqual(['resume-point-20261207T130000Z.jsonl']);
    const text = await readFile(
      join(dir, '_tributary/markers/resume-point-20261207T130000Z.jsonl'),
      'utf8',
    );
    expect(text.split('\n')).toEqual([expect.any(String), '']);
    expect(JSON.parse(text)).toEqual({
      marker: 'resume-point-moved',
      kind: 'gap',
      from: {
        key: keyAt(T0),
        clusterTime: { at: iso(T0), t: T0, i: 1 },
        token: tokenAt(T0),
      },
      to: { clusterTime: { at: iso(T0 + 20), t: T0 + 20, i: 0 } },
      partitions: [1],
      setAt: '2026-12-07T13:00:00.000Z',
      by: 'tributary resume-point set',
    });
    const stored = await store.readResumeOverride();
    expect(stored).toMatchObject({ kind: 'gap', from: { key: keyAt(T0) } });
    expect(stored?.to.clusterTime).toEqual(new Timestamp({ t: T0 + 20, i: 0 }));

    const show = (
      await runTributary(['resume-point', 'show', '--json'], env, { now })
    ).json<ResumePointReport>();
    expect(show.resumePoint).toMatchObject({ source: 'override', reads: 'from' });
    expect(show.resumePoint?.clusterTime.t).toBe(T0 + 20);
    expect(show.ofCheckpoints).toMatchObject({ source: 'checkpoint', partition: 1 });
    expect(show.override).toMatchObject({
      kind: 'gap',
      state: 'pending',
      marker: '_tributary/markers/resume-point-20261207T130000Z.jsonl',
    });
  });

  it('moves it back as an overlap with a token in Extended JSON, replacing the gap, and says so', async () => {
    await captureStopped();
    expect((await set(['--time', iso(T0 + 60), '--yes'])).code).toBe(0);
    const later = () => NOW + 1000;
    const run = await runTributary(
      ['resume-point', 'set', '--token', JSON.stringify(tokenAt(T0 - 30, 4)), '--yes', '--json'],
      env,
      { now: later },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('This is an OVERLAP');
    expect(run.stderr).toContain('It replaces the gap set 2026-12-07T13:00:00.000Z');
    expect(run.json()).toMatchObject({
      moved: true,
      kind: 'overlap',
      to: { clusterTime: { t: T0 - 30, i: 4 }, token: tokenAt(T0 - 30, 4) },
      marker: '_tributary/markers/resume-point-20261207T130001Z.jsonl',
    });
    expect(await markers()).toHaveLength(2);
    const stored = await store.readResumeOverride();
    expect(stored).toMatchObject({ kind: 'overlap', to: { token: tokenAt(T0 - 30, 4) } });
    expect(stored?.to.clusterTime).toEqual(new Timestamp({ t: T0 - 30, i: 4 }));
  });

  it('shows an overlap as passed once a checkpoint moved on since it was set, though its clear failed', async () => {
    await captureStopped();
    expect((await set(['--time', iso(T0 - 30), '--yes'])).code).toBe(0);
    const pending = (
      await runTributary(['resume-point', 'show', '--json'], env, { now })
    ).json<ResumePointReport>();
    expect(pending.override).toMatchObject({ kind: 'overlap', state: 'pending' });
    expect(pending.resumePoint).toMatchObject({ source: 'override' });

    // Capture re-read and went on; its clear of the overlap failed, so it is still stored.
    const held = await store.readPartition(1);
    await store.writePartition(
      {
        partition: 1,
        position: { key: keyAt(T0 + 5), token: tokenAt(T0 + 5) },
        openFiles: [],
        writerId: 'w',
        updatedAt: new Date(),
      },
      held?.version,
    );
    const show = await runTributary(['resume-point', 'show', '--json'], env, { now });
    const report = show.json<ResumePointReport>();
    expect(report.override).toMatchObject({ kind: 'overlap', state: 'passed' });
    expect(report.resumePoint).toMatchObject({ source: 'checkpoint', key: keyAt(T0 + 5) });
    const text = await runTributary(['resume-point', 'show'], env, { now });
    expect(text.stdout).toContain('passed: the checkpoints moved on since it was set');
  });

  /** A store's own member, its methods bound to it (they use private fields). */
  const bound = (value: unknown, store: CheckpointStore): unknown =>
    typeof value === 'function' ? (value as () => unknown).bind(store) : value;

  it('says the marker was written but the move not stored when storing the override fails, and a rerun moves it', async () => {
    await captureStopped();
    const real = Systems.prototype.checkpoints;
    const failing = vi.spyOn(Systems.prototype, 'checkpoints').mockImplementation(async function (
      this: Systems,
    ) {
      const checkpoints = await real.call(this);
      return new Proxy(checkpoints, {
        get: (target, name) =>
          name === 'writeResumeOverride'
            ? async () => {
                throw new CheckpointError('UNAVAILABLE', 'the checkpoint store answered 503');
              }
            : bound(Reflect.get(target, name, target), target),
      });
    });
    const run = await set(['--time', iso(T0 + 20), '--yes']).finally(() => failing.mockRestore());
    expect(run.code).toBe(69);
    expect(run.stderr).toContain(
      'The marker at _tributary/markers/resume-point-20261207T130000Z.jsonl was written, but the move was NOT stored (the checkpoint store answered 503)',
    );
    expect(run.stderr).toContain('Run the same command again');
    expect(run.stderr).not.toContain('Nothing was changed');
    expect(await markers()).toEqual(['resume-point-20261207T130000Z.jsonl']);
    expect(await store.readResumeOverride()).toBeUndefined();

    const again = await runTributary(
      ['resume-point', 'set', '--time', iso(T0 + 20), '--yes'],
      env,
      {
        now: () => NOW + 1000,
        sleep,
      },
    );
    expect(again.code).toBe(0);
    expect(await markers()).toHaveLength(2);
    expect((await store.readResumeOverride())?.setAt).toEqual(new Date(NOW + 1000));
  });
});
