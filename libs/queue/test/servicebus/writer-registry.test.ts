import { ServiceBusError, type ServiceBusClient } from '@azure/service-bus';
import { describe, expect, it } from 'vitest';
import {
  type RegistryEntry,
  WriterRegistry,
  holdersOf,
  readRegistry,
} from '../../src/servicebus/writer-registry.ts';

/**
 * A stand-in for the SDK's client holding one session's state, whose
 * `setSessionState` fails with a lost lock as many times as asked first —
 * as when the registry's lock runs out in the middle of an update.
 */
function clientLosingTheLock(times: number) {
  let state: unknown;
  let failures = times;
  let accepted = 0;
  const client = {
    acceptSession: async () => {
      accepted += 1;
      return {
        getSessionState: async () => state,
        setSessionState: async (next: unknown) => {
          if (failures > 0) {
            failures -= 1;
            throw new ServiceBusError('The session lock has expired.', 'SessionLockLost');
          }
          state = next;
        },
        close: async () => undefined,
      };
    },
  };
  return {
    client: client as unknown as ServiceBusClient,
    accepted: () => accepted,
    state: () => state,
  };
}

function registryOn(client: ServiceBusClient, operationTimeoutMs = 2000) {
  return new WriterRegistry({
    client,
    queueName: 'q',
    writerId: 'w1',
    presenceTtlMs: 10_000,
    suspectAfterMs: 5_000,
    operationTimeoutMs,
    onBackgroundError: () => undefined,
  });
}

describe('the writers registry', () => {
  it('makes an update again when the registry’s lock runs out in the middle, instead of failing the writer', async () => {
    const fake = clientLosingTheLock(2);
    const view = await registryOn(fake.client).update({ owned: [3], hungry: false });
    expect(view.live).toBe(1);
    expect(fake.accepted()).toBe(3);
    expect(fake.state()).toEqual({
      writers: {
        w1: { owned: [3], hungry: false, beat: expect.any(Number), until: expect.any(Number) },
      },
    });
  });

  it('says the registry could not be updated, as an outage, when the lock keeps running out', async () => {
    const fake = clientLosingTheLock(Number.MAX_SAFE_INTEGER);
    const refused = await registryOn(fake.client, 200)
      .update({ owned: [], hungry: true })
      .catch((error: unknown) => error);
    expect((refused as { code?: string }).code).toBe('UNAVAILABLE');
    expect((refused as Error).message).toMatch(/could not be updated within 200 ms/);
  });
});

describe('the writers registry, read by an operator', () => {
  it('says until when each writer counts as alive (its clock plus the presence TTL) and is read without a write', async () => {
    const fake = clientLosingTheLock(0);
    const before = Date.now();
    await registryOn(fake.client).update({ owned: [1, 2], hungry: false });
    const stored = (fake.state() as { writers: Record<string, RegistryEntry> }).writers.w1;
    expect(stored?.until).toBeGreaterThanOrEqual(before + 10_000);
    expect(stored?.until).toBeLessThanOrEqual(Date.now() + 10_000);
    const written = fake.state();
    const read = await readRegistry({
      client: fake.client,
      queueName: 'q',
      operationTimeoutMs: 2000,
      onBackgroundError: () => undefined,
    });
    expect(read).toEqual({ w1: stored });
    expect(fake.state()).toBe(written);
  });

  const entry = (owned: number[], until?: number): RegistryEntry => ({
    beat: 1,
    owned,
    hungry: false,
    ...(until === undefined ? {} : { until }),
  });

  it.each([
    {
      behaviour: 'names the writer of each partition, with its end',
      writers: { a: entry([0, 1], 5000), b: entry([2], 6000) },
      holders: { 0: ['a', 5000], 1: ['a', 5000], 2: ['b', 6000] },
    },
    {
      behaviour: 'leaves out a writer whose entry has run out (it died)',
      writers: { a: entry([0, 1], 999), b: entry([2], 6000) },
      holders: { 2: ['b', 6000] },
    },
    {
      behaviour: 'prefers the later entry where two name one partition (a hand-over in progress)',
      writers: { a: entry([0, 1], 5000), b: entry([1], 6000) },
      holders: { 0: ['a', 5000], 1: ['b', 6000] },
    },
    {
      behaviour: 'counts an entry of an older writer (no end) as holding, with no end known',
      writers: { a: entry([0]), b: entry([0, 1], 6000) },
      holders: { 0: ['a', undefined], 1: ['b', 6000] },
    },
  ])('$behaviour', ({ writers, holders }) => {
    const expected = new Map(
      Object.entries(holders).map(([p, [writerId, until]]) => [
        Number(p),
        until === undefined ? { writerId } : { writerId, until: new Date(until as number) },
      ]),
    );
    expect(holdersOf(writers, 1000)).toEqual(expected);
  });
});
