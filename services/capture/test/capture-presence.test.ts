import { Writable } from 'node:stream';
import { createLakeCheckpointStore } from '@tributary/checkpoint';
import { createLogger } from '@tributary/core';
import { createMemoryLake } from '@tributary/lake';
import { DependencyWaiter, Readiness } from '@tributary/telemetry';
import { describe, expect, it } from 'vitest';
import { CapturePresence } from '../src/capture-presence.ts';

const silent = createLogger({
  name: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, done) => done() }),
});

async function until(condition: () => Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('capture’s presence record', () => {
  it('is written at start, refreshed on its interval, and removed at stop', async () => {
    const lake = createMemoryLake();
    const checkpoints = createLakeCheckpointStore({ lake });
    const presence = new CapturePresence(checkpoints, silent, {
      captureId: 'host-1-abc',
      intervalMs: 20,
    });
    const deps = new DependencyWaiter(new Readiness(), silent, new AbortController().signal);
    await presence.start(deps);
    const first = await checkpoints.readPresence();
    expect(first).toMatchObject({ captureId: 'host-1-abc' });
    await until(
      async () =>
        ((await checkpoints.readPresence())?.reportedAt.getTime() ?? 0) >
        (first?.reportedAt.getTime() ?? 0),
    );
    expect((await checkpoints.readPresence())?.startedAt).toEqual(first?.startedAt);
    await presence.stop();
    await presence.stop();
    expect(await checkpoints.readPresence()).toBeUndefined();
    await lake.close();
  });

  it('leaves the record of another capture that reported since', async () => {
    const lake = createMemoryLake();
    const checkpoints = createLakeCheckpointStore({ lake });
    const presence = new CapturePresence(checkpoints, silent, {
      captureId: 'old',
      intervalMs: 60_000,
    });
    const deps = new DependencyWaiter(new Readiness(), silent, new AbortController().signal);
    await presence.start(deps);
    const newer = { captureId: 'new', startedAt: new Date(), reportedAt: new Date() };
    await checkpoints.writePresence(newer);
    await presence.stop();
    expect(await checkpoints.readPresence()).toEqual(newer);
    await lake.close();
  });
});
