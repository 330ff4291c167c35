import type { GapReport, PartitionCheckpoint } from '@tributary/checkpoint';
import { formatOrderingKey } from '@tributary/core';
import { Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { renderStatus } from '../src/status/render-status.ts';
import { type StatusInputs, exitCodeOfReport, statusReport } from '../src/status/status-report.ts';

/** 2026-12-07T12:00:00Z, in seconds. */
const T0 = 1_796_644_800;
const NOW = (T0 + 100) * 1000;

const keyAt = (seconds: number, i = 1) => formatOrderingKey({ t: seconds, i, n: 0 });
/** A resume token as MongoDB makes them: 0x82, then the clusterTime's seconds and increment. */
const tokenAt = (seconds: number) => ({
  _data: `82${seconds.toString(16).padStart(8, '0')}000000012B0229296E04`,
});

function checkpoint(
  partition: number,
  options: {
    keySeconds?: number;
    tokenSeconds?: number;
    writerId?: string;
    updatedSeconds?: number;
    files?: { path: string; closed?: boolean }[];
  } = {},
): PartitionCheckpoint {
  const { keySeconds, tokenSeconds = keySeconds } = options;
  return {
    partition,
    ...(keySeconds === undefined
      ? {}
      : { position: { key: keyAt(keySeconds), token: tokenAt(tokenSeconds as number) } }),
    openFiles: (options.files ?? []).map((f) => ({
      path: f.path,
      firstKey: keyAt(T0),
      length: 10,
      version: 'v1',
      openedAt: new Date(T0 * 1000),
      ...(f.closed ? { closed: true } : {}),
    })),
    writerId: options.writerId ?? 'w1',
    updatedAt: new Date((options.updatedSeconds ?? T0 + 99) * 1000),
  };
}

const origin = {
  startAtOperationTime: new Timestamp({ t: T0 - 3600, i: 1 }),
  createdAt: new Date(),
};

/** Two partitions, both held and current, nothing waiting: all well. */
function healthy(overrides: Partial<StatusInputs> = {}): StatusInputs {
  return {
    now: NOW,
    transport: 'bullmq',
    partitionCount: 2,
    checkpoints: new Map([
      [0, checkpoint(0, { keySeconds: T0 + 98 })],
      [1, checkpoint(1, { keySeconds: T0 + 97 })],
    ]),
    gaps: [],
    origin,
    owners: new Map([
      [0, { writerId: 'w1', until: new Date(NOW + 1500) }],
      [1, { writerId: 'w1' }],
    ]),
    backlog: 0,
    deadLetters: 0,
    oplog: 'not-configured',
    headroomWarnPercent: 20,
    ...overrides,
  };
}

describe('the status of a partition', () => {
  it('names its owner, checkpoint key and clusterTime, lag, time since the checkpoint and open files', () => {
    const report = statusReport(
      healthy({
        checkpoints: new Map([
          [
            0,
            checkpoint(0, {
              keySeconds: T0 + 90,
              updatedSeconds: T0 + 95,
              files: [
                { path: 'shop/orders/a.jsonl' },
                { path: 'shop/orders/b.jsonl', closed: true },
              ],
            }),
          ],
          [1, checkpoint(1, { keySeconds: T0 + 97 })],
        ]),
      }),
    );
    expect(report.partitions[0]).toEqual({
      partition: 0,
      owner: { writerId: 'w1', until: new Date(NOW + 1500).toISOString() },
      lastCheckpointBy: 'w1',
      checkpoint: {
        key: keyAt(T0 + 90),
        clusterTime: { t: T0 + 90, i: 1, at: '2026-12-07T12:01:30.000Z' },
        updatedAt: { at: '2026-12-07T12:01:35.000Z', agoMs: 5000 },
      },
      lagMs: 10_000,
      openFiles: ['shop/orders/a.jsonl'],
      gap: null,
    });
    expect(report.partitions[1]?.owner).toEqual({ writerId: 'w1' });
  });

  it('lags by the clusterTime heartbeats moved its resume token to, not by its last event', () => {
    const quiet = checkpoint(0, { keySeconds: T0 - 600, tokenSeconds: T0 + 99 });
    const report = statusReport(healthy({ checkpoints: new Map([[0, quiet]]), partitionCount: 1 }));
    expect(report.partitions[0]?.lagMs).toBe(1000);
    expect(report.partitions[0]?.checkpoint?.clusterTime?.t).toBe(T0 - 600);
  });

  it('lags from capture’s origin while it has no checkpoint, and says who stored a claim without a batch', () => {
    const report = statusReport(
      healthy({
        checkpoints: new Map([[1, checkpoint(1, { writerId: 'w2' })]]),
        owners: new Map(),
        backlog: 0,
      }),
    );
    expect(report.partitions.map((p) => p.lagMs)).toEqual([3_700_000, 3_700_000]);
    expect(report.partitions[0]).toMatchObject({ checkpoint: null, lastCheckpointBy: null });
    expect(report.partitions[1]).toMatchObject({
      owner: null,
      lastCheckpointBy: 'w2',
      checkpoint: { key: null, clusterTime: null },
    });
  });

  it('shows a gap being healed', () => {
    const gap: GapReport = {
      partition: 1,
      afterKey: keyAt(T0 + 50),
      generation: 2,
      missingUpTo: keyAt(T0 + 60),
      writerId: 'w1',
      reportedAt: new Date((T0 + 70) * 1000),
    };
    const report = statusReport(healthy({ gaps: [gap] }));
    expect(report.partitions[1]?.gap).toEqual({
      afterKey: keyAt(T0 + 50),
      missingUpTo: keyAt(T0 + 60),
      reportedBy: 'w1',
      reportedAt: { at: '2026-12-07T12:01:10.000Z', agoMs: 30_000 },
    });
    expect(report.warnings.map((w) => w.kind)).toEqual(['gap']);
    expect(exitCodeOfReport(report)).toBe(1);
  });
});

describe('capture’s resume point', () => {
  it('is the oldest partition checkpoint', () => {
    const report = statusReport(healthy());
    expect(report.capture.resumePoint).toEqual({
      from: 'checkpoint',
      partition: 1,
      key: keyAt(T0 + 97),
      clusterTime: { at: '2026-12-07T12:01:37.000Z', agoMs: 3000 },
    });
  });

  it('is capture’s origin while a partition has no checkpoint, and unknown before capture started', () => {
    const checkpoints = new Map([[0, checkpoint(0, { keySeconds: T0 + 98 })]]);
    expect(statusReport(healthy({ checkpoints })).capture.resumePoint).toEqual({
      from: 'origin',
      clusterTime: { at: '2026-12-07T11:00:00.000Z', agoMs: 3_700_000 },
    });
    expect(statusReport(healthy({ origin: undefined })).capture.resumePoint).toBeNull();
  });

  it('is where an operator moved it while the move applies, with its headroom from there', () => {
    const override = {
      kind: 'gap' as const,
      to: { clusterTime: new Timestamp({ t: T0 + 99, i: 0 }) },
      from: { key: keyAt(T0 + 97), clusterTime: new Timestamp({ t: T0 + 97, i: 1 }) },
      setAt: new Date(NOW),
    };
    const report = statusReport(healthy({ override, oplog: { first: T0 + 98, last: T0 + 100 } }));
    expect(report.capture.resumePoint).toEqual({
      from: 'override',
      kind: 'gap',
      clusterTime: { at: '2026-12-07T12:01:39.000Z', agoMs: 1000 },
    });
    // Capture reads from the floor, inside the window: no history-lost warning.
    expect(report.capture.oplog?.headroomPercent).toBe(50);
    expect(report.warnings).toEqual([]);
    expect(renderStatus(report)).toContain('where an operator moved it, a gap');
    // Once the checkpoints pass the floor, they set the resume point again.
    const passed = { ...override, to: { clusterTime: new Timestamp({ t: T0 + 90, i: 0 }) } };
    expect(statusReport(healthy({ override: passed })).capture.resumePoint).toMatchObject({
      from: 'checkpoint',
      partition: 1,
    });
  });

  it.each([
    {
      behaviour: 'well inside the window',
      first: T0 - 1000,
      last: T0 + 100,
      percent: 99.7,
      warns: false,
    },
    {
      behaviour: 'at the warning share',
      first: T0 + 97 - 20,
      last: T0 + 97 + 80,
      percent: 20,
      warns: false,
    },
    {
      behaviour: 'within the warning share of the oldest end',
      first: T0 + 80,
      last: T0 + 180,
      percent: 17,
      warns: true,
    },
    {
      behaviour: 'past the oldest end (history lost)',
      first: T0 + 98,
      last: T0 + 198,
      percent: -1,
      warns: true,
    },
  ])('stands $behaviour of the oplog at $percent %', ({ first, last, percent, warns }) => {
    const report = statusReport(healthy({ oplog: { first, last } }));
    expect(report.capture.oplog).toEqual({
      first: new Date(first * 1000).toISOString(),
      last: new Date(last * 1000).toISOString(),
      headroomPercent: percent,
    });
    expect(report.warnings.map((w) => w.kind)).toEqual(warns ? ['headroom'] : []);
    if (percent < 0) expect(report.warnings[0]?.message).toMatch(/history it needs is gone/);
  });
});

describe('the warnings', () => {
  it('are none for a pipeline that is well, so the exit code is 0', () => {
    const report = statusReport(healthy());
    expect(report.warnings).toEqual([]);
    expect(exitCodeOfReport(report)).toBe(0);
  });

  it('count dead letters', () => {
    const report = statusReport(healthy({ deadLetters: 3 }));
    expect(report.warnings).toEqual([
      { kind: 'dead-letters', message: expect.stringMatching(/^3 dead letters:/) },
    ]);
    expect(exitCodeOfReport(report)).toBe(1);
  });

  it.each([
    { behaviour: 'batches wait', backlog: 4 as const, warns: true },
    {
      behaviour: 'the broker cannot count the backlog',
      backlog: 'uncounted' as const,
      warns: true,
    },
    { behaviour: 'nothing waits', backlog: 0 as const, warns: false },
  ])('name partitions without an owner when $behaviour', ({ backlog, warns }) => {
    const report = statusReport(healthy({ owners: new Map([[0, { writerId: 'w1' }]]), backlog }));
    expect(report.partitions[1]).toMatchObject({ owner: null, lastCheckpointBy: 'w1' });
    expect(report.warnings.map((w) => w.message)).toEqual(
      warns ? [expect.stringMatching(/^partition 1 has no owner while/)] : [],
    );
  });

  it('say what could not be read, and a system that cannot be reached makes the exit code 69', () => {
    const refused = statusReport(
      healthy({ oplog: { unreadable: 'not authorized on local', unavailable: false } }),
    );
    expect(refused.warnings).toEqual([
      {
        kind: 'unreadable',
        message: 'the oplog window could not be read: not authorized on local',
        unavailable: false,
      },
    ]);
    expect(exitCodeOfReport(refused)).toBe(1);
    const unreachable = statusReport(
      healthy({ owners: { unreadable: 'Redis failed (ECONNREFUSED)', unavailable: true } }),
    );
    // Owners unknown: no partition is called ownerless.
    expect(unreachable.warnings.map((w) => w.kind)).toEqual(['unreadable']);
    expect(unreachable.transport.ownersNote).toMatch(/ECONNREFUSED/);
    expect(exitCodeOfReport(unreachable)).toBe(69);
  });
});

describe('the status for people', () => {
  it('shows the partitions as a table, the queue, the resume point, the oplog and the warnings', () => {
    const text = renderStatus(
      statusReport(
        healthy({
          transport: 'servicebus',
          owners: new Map([[0, { writerId: 'w1' }]]),
          backlog: 'uncounted',
          oplog: { first: T0 - 3600, last: T0 + 100 },
        }),
      ),
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('Partitions (servicebus, 2) at 2026-12-07T12:01:40Z');
    expect(lines[1]).toMatch(
      /^PART +OWNER +CHECKPOINT KEY +CLUSTER TIME +LAG +CHECKPOINTED +OPEN +GAP$/,
    );
    expect(lines[3]).toMatch(/^ +0 +w1 +\S+ +2026-12-07T12:01:38Z +2\.0 s +1\.0 s ago +0 +-$/);
    expect(lines[4]).toMatch(/^ +1 +none \(last checkpoint by w1\) /);
    expect(text).toContain('Queue         backlog unknown (needs Manage rights) · dead letters 0');
    expect(text).toContain(`Resume point  after partition 1's checkpoint ${keyAt(T0 + 97)}`);
    expect(text).toMatch(
      /Oplog +2026-12-07T11:00:00Z … 2026-12-07T12:01:40Z \(1 h 01 m\); resume point at 99\.9 %/,
    );
    expect(text).toMatch(/Warnings:\n {2}! partition 1 has no owner/);
  });
});
