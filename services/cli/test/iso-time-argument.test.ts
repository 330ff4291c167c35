import { describe, expect, it } from 'vitest';
import { isCliError } from '../src/cli-error.ts';
import { isoTimeArgument, parseIsoTimeWithZone } from '../src/iso-time-argument.ts';

describe('a time given on the command line', () => {
  it.each<[string, string | undefined]>([
    ['2026-11-21T13:00:00Z', '2026-11-21T13:00:00.000Z'],
    ['2026-11-21T13:00Z', '2026-11-21T13:00:00.000Z'],
    ['2026-11-21T13:00:00.250Z', '2026-11-21T13:00:00.250Z'],
    ['2026-11-21T14:00:00+01:00', '2026-11-21T13:00:00.000Z'],
    ['2026-11-21T08:00:00-05:00', '2026-11-21T13:00:00.000Z'],
    // No zone: Date.parse would read it as this machine's local time.
    ['2026-11-21T13:00:00', undefined],
    ['2026-11-21 13:00:00Z', undefined],
    // A bare date: midnight where?
    ['2026-11-21', undefined],
    ['2026-11-21T25:00:00Z', undefined],
    ['yesterday', undefined],
  ])('%s is read as %s', (text, instant) => {
    const ms = parseIsoTimeWithZone(text);
    expect(ms === undefined ? undefined : new Date(ms).toISOString()).toBe(instant);
  });

  it('is refused with a usage error naming the option and the expected form', () => {
    let thrown: unknown;
    try {
      isoTimeArgument('--since', '2026-11-21T13:00:00');
    } catch (error) {
      thrown = error;
    }
    expect(isCliError(thrown) && thrown.code).toBe('USAGE');
    expect((thrown as Error).message).toBe(
      '--since 2026-11-21T13:00:00 is not an ISO 8601 time with a zone, such as 2026-11-21T13:00:00Z.',
    );
  });
});
