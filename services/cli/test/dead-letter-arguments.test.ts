import { describe, expect, it } from 'vitest';
import { isCliError } from '../src/cli-error.ts';
import type { CommandArgs, CommandContext } from '../src/command.ts';
import { sinceOption } from '../src/dead-letters/dead-letter-arguments.ts';

const NOW = Date.parse('2026-11-21T13:00:00Z');
const context = { now: () => NOW } as unknown as CommandContext;
const since = (text: string) =>
  sinceOption(context, { values: { since: text }, positionals: [] } satisfies CommandArgs);

describe('dead-letters list --since', () => {
  it.each([
    ['2026-11-21T12:00:00Z', '2026-11-21T12:00:00.000Z'],
    ['2026-11-21T14:00:00+02:00', '2026-11-21T12:00:00.000Z'],
    ['30m', '2026-11-21T12:30:00.000Z'],
    ['2h', '2026-11-21T11:00:00.000Z'],
  ])('takes %s as %s', (text, instant) => {
    expect(since(text)?.toISOString()).toBe(instant);
  });

  // Read as local time, the same text would select other dead letters on each machine.
  it.each(['2026-11-21T12:00:00', '2026-11-21T12:00', '2026-11-21', 'soon'])(
    'refuses %s with a usage error naming the forms it takes',
    (text) => {
      let thrown: unknown;
      try {
        since(text);
      } catch (error) {
        thrown = error;
      }
      expect(isCliError(thrown) && thrown.code).toBe('USAGE');
      expect((thrown as Error).message).toBe(
        `--since must be an ISO 8601 time with a zone (2026-11-21T13:00:00Z; a time without one would be read as this machine's local time) or a span back from now (30m, 2h, 7d), got '${text}'.`,
      );
    },
  );
});
