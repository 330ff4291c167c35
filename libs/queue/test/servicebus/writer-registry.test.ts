import { ServiceBusError, type ServiceBusClient } from '@azure/service-bus';
import { describe, expect, it } from 'vitest';
import { WriterRegistry } from '../../src/servicebus/writer-registry.ts';

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
      writers: { w1: { owned: [3], hungry: false, beat: expect.any(Number) } },
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
