import { requireRedis } from '@tributary/testing';
import { beforeAll, describe } from 'vitest';

/** The durable queues a pipeline can run on. */
export const TRANSPORTS = ['bullmq', 'servicebus'] as const;

/** One of {@link TRANSPORTS}. */
export type TransportName = (typeof TRANSPORTS)[number];

/**
 * The transports the end-to-end suite runs on: `TRIBUTARY_E2E_TRANSPORTS`
 * (comma-separated, e.g. `servicebus`), by default every one. An unknown name
 * is refused rather than silently running nothing.
 */
export function selectedTransports(
  value = process.env.TRIBUTARY_E2E_TRANSPORTS,
): readonly TransportName[] {
  if (value === undefined || value.trim() === '') return TRANSPORTS;
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(TRANSPORTS as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new RangeError(
      `TRIBUTARY_E2E_TRANSPORTS names ${unknown.join(', ')}; use a comma-separated list of ${TRANSPORTS.join(', ')}`,
    );
  return TRANSPORTS.filter((name) => names.includes(name));
}

/**
 * The same cases once per selected transport — one set of tests with the
 * transport as a parameter, never a copy per broker. `cases` registers them
 * for the transport it is given; a case about one broker only (Redis
 * restarting empty) is registered for that one with `it.runIf`, and a case
 * the queue takes no part in with `it.runIf(runsOnce(transport))`.
 *
 * Redis is checked before the BullMQ cases, so they fail fast with what to
 * do when it is not running; the Service Bus cases start their emulator.
 */
export function describeOnTransports(
  name: string,
  cases: (transport: TransportName) => void,
): void {
  describe.each(selectedTransports().map((transport) => [transport] as const))(
    `${name} (on %s)`,
    (transport) => {
      if (transport === 'bullmq') beforeAll(() => requireRedis());
      cases(transport);
    },
  );
}

/**
 * Whether a case the queue takes no part in runs on `transport`: on the
 * first selected transport only. What capture reads from MongoDB (scopes,
 * lost history, a dropped change stream, MongoDB down) and how the lake
 * names paths do not depend on the broker between capture and writers, so
 * running them twice would only lengthen the suite; with
 * `TRIBUTARY_E2E_TRANSPORTS=servicebus` they run on Service Bus.
 */
export function runsOnce(transport: TransportName): boolean {
  return transport === selectedTransports()[0];
}
