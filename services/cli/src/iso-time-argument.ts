import { CliError } from './cli-error.ts';

/** The form every time option of `tributary` takes, as its messages show it. */
export const ISO_TIME_EXAMPLE = '2026-11-21T13:00:00Z';

/**
 * An ISO 8601 date and time with a zone (`Z` or `±hh:mm`): a bare date or a
 * time without a zone would be guessed (`Date.parse` reads the latter as
 * this machine's local time), so neither is taken.
 */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The instant `text` names in milliseconds since the epoch, when it is an
 * ISO 8601 date and time with a zone; `undefined` for anything else.
 */
export function parseIsoTimeWithZone(text: string): number | undefined {
  const ms = ISO_WITH_ZONE.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Reads an option's value that must be an ISO 8601 date and time with a
 * zone — the one way `tributary verify --since`, `tributary resume-point
 * set --time` and `tributary dead-letters list --since` read a time.
 *
 * @param option the option as the operator typed it (`--time`), for the message.
 * @returns milliseconds since the epoch.
 * @throws CliError `USAGE` naming the option and the expected form.
 */
export function isoTimeArgument(option: string, text: string): number {
  const ms = parseIsoTimeWithZone(text);
  if (ms === undefined)
    throw new CliError(
      'USAGE',
      `${option} ${text} is not an ISO 8601 time with a zone, such as ${ISO_TIME_EXAMPLE}.`,
    );
  return ms;
}
