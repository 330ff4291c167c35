import { CliError } from '../cli-error.ts';
import { ISO_TIME_EXAMPLE, parseIsoTimeWithZone } from '../iso-time-argument.ts';
import type { CommandArgs, CommandContext } from '../command.ts';

/** The filters `list`, `requeue` and `purge` share. */
export interface DeadLetterFilters {
  readonly partition?: number;
  /** Matched case-insensitively anywhere in the whole reason. */
  readonly reason?: string;
  readonly since?: Date;
}

/** A string option's value, if given. */
export function stringOption(args: CommandArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A boolean option's value. */
export function flag(args: CommandArgs, name: string): boolean {
  return args.values[name] === true;
}

/** `--partition P`: a partition of this pipeline (0 … K-1). */
export function partitionOption(context: CommandContext, args: CommandArgs): number | undefined {
  const text = stringOption(args, 'partition');
  if (text === undefined) return undefined;
  const count = context.config.partitionCount;
  const partition = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(partition >= 0 && partition < count)) {
    throw new CliError(
      'USAGE',
      `--partition must be a partition number from 0 to ${count - 1} (TRIBUTARY_PARTITION_COUNT is ${count}), got '${text}'.`,
    );
  }
  return partition;
}

/** A whole number ≥ 1 given as `--name N`, or `fallback`. */
export function countOption(args: CommandArgs, name: string, fallback: number): number {
  const text = stringOption(args, name);
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= 1 && Number.isSafeInteger(value)))
    throw new CliError('USAGE', `--${name} must be a whole number ≥ 1, got '${text}'.`);
  return value;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * `--since TIME`: an ISO 8601 date and time with a zone
 * (`2026-05-01T12:00:00Z`, read as `verify --since` reads one: see
 * `parseIsoTimeWithZone`) or a span back from now (`90s`, `30m`, `2h`, `7d`).
 */
export function sinceOption(context: CommandContext, args: CommandArgs): Date | undefined {
  const text = stringOption(args, 'since');
  if (text === undefined) return undefined;
  const span = /^(\d+)([smhd])$/.exec(text.trim());
  if (span) return new Date(context.now() - Number(span[1]) * (UNIT_MS[span[2] as string] ?? 0));
  const at = parseIsoTimeWithZone(text);
  if (at === undefined) {
    throw new CliError(
      'USAGE',
      `--since must be an ISO 8601 time with a zone (${ISO_TIME_EXAMPLE}; a time without one would be read as this machine's local time) or a span back from now (30m, 2h, 7d), got '${text}'.`,
    );
  }
  return new Date(at);
}

/** `--partition`, `--reason` and `--since`, validated. */
export function filtersOf(
  context: CommandContext,
  args: CommandArgs,
  { since }: { since: boolean },
): DeadLetterFilters {
  const partition = partitionOption(context, args);
  const reason = stringOption(args, 'reason');
  const after = since ? sinceOption(context, args) : undefined;
  return {
    ...(partition === undefined ? {} : { partition }),
    ...(reason === undefined || reason === '' ? {} : { reason }),
    ...(after === undefined ? {} : { since: after }),
  };
}

/** True when the whole reason contains `filters.reason` (case-insensitive). */
export function reasonMatches(reason: string, filters: DeadLetterFilters): boolean {
  return (
    filters.reason === undefined || reason.toLowerCase().includes(filters.reason.toLowerCase())
  );
}

/** The filters in words, for messages ("on partition 3 whose reason contains 'lake'"). */
export function describeFilters(filters: DeadLetterFilters): string {
  const parts: string[] = [];
  if (filters.partition !== undefined) parts.push(`on partition ${filters.partition}`);
  if (filters.reason !== undefined) parts.push(`whose reason contains '${filters.reason}'`);
  if (filters.since !== undefined)
    parts.push(`dead-lettered since ${filters.since.toISOString().replace(/\.\d{3}Z$/, 'Z')}`);
  return parts.join(' ');
}

/** Which dead letters `requeue` or `purge` acts on. */
export type Selection =
  | { readonly kind: 'one'; readonly id: string }
  | { readonly kind: 'matching'; readonly filters: DeadLetterFilters };

/**
 * `ID` alone, or a set: `--all` and/or the filters. `requireAll` (purge):
 * a set needs `--all` spelled out, the filters only narrow it. Anything
 * else is a usage error, before anything is read or changed.
 */
export function selectionOf(
  context: CommandContext,
  args: CommandArgs,
  verb: string,
  { requireAll }: { requireAll: boolean },
): Selection {
  const [id] = args.positionals;
  const all = flag(args, 'all');
  const filters = filtersOf(context, args, { since: false });
  const filtered = filters.partition !== undefined || filters.reason !== undefined;
  if (id !== undefined) {
    if (all || filtered) {
      throw new CliError(
        'USAGE',
        `Give either a dead letter's ID or --all/--partition/--reason, not both: '${verb} ${id}' acts on that one alone.`,
      );
    }
    return { kind: 'one', id };
  }
  if (!all && !filtered) {
    throw new CliError(
      'USAGE',
      requireAll
        ? `Say which dead letters to ${verb}: an ID, or --all (narrowed with --partition P and --reason TEXT).`
        : `Say which dead letters to ${verb}: an ID, --all, --partition P or --reason TEXT.`,
    );
  }
  if (requireAll && !all) {
    throw new CliError(
      'USAGE',
      `${verb} removes dead letters for good: name one by its ID, or pass --all with --partition/--reason to ${verb} every one that matches.`,
    );
  }
  return { kind: 'matching', filters };
}
