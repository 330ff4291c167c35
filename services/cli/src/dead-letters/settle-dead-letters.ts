import { CliError, EXIT } from '../cli-error.ts';
import type { CommandArgs, CommandContext } from '../command.ts';
import {
  type DeadLetterFilters,
  describeFilters,
  flag,
  reasonMatches,
  selectionOf,
} from './dead-letter-arguments.ts';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import { type DeadLetterSummary, summarize } from './dead-letter-summary.ts';

/**
 * Most dead letters one `--all` run acts on: each is read whole (its batch
 * decoded to say what it holds), so memory stays bounded; a larger set
 * takes more runs, and the command says so.
 */
export const MAX_SELECTED = 10_000;

/** The selection options `requeue` and `purge` both take. */
export const SELECTION_OPTIONS = {
  all: { type: 'boolean', default: false },
  partition: { type: 'string' },
  reason: { type: 'string' },
  yes: { type: 'boolean', short: 'y', default: false },
} as const;

/** The closing lines of `requeue`'s and `purge`'s help (`done`: "requeued", "purged"). */
export function selectionHelpTail(done: string): string[] {
  return [
    `At most ${MAX_SELECTED.toLocaleString('en-US')} per run, oldest first.`,
    `Exit status: 0 when every one selected was ${done} (or none matched), 1 for an unknown ID,`,
    'a refused confirmation, or one that vanished meanwhile; 64 for conflicting or missing',
    'selections (nothing changed); 69 when the queue cannot be reached.',
  ];
}

/** What `requeue` and `purge` each do to one dead letter, and how they talk about it. */
export interface Settlement {
  /** `requeue`, `purge`. */
  readonly verb: string;
  /** `Requeued`, `Purged`. */
  readonly done: string;
  /** A set needs `--all` spelled out (filters only narrow it). */
  readonly requireAll: boolean;
  /** Asks even for one dead letter (unless `--yes`). */
  readonly confirmOne: boolean;
  /** The confirmation question for `count` dead letters holding `events` events. */
  question(count: number, events: number): string;
  /** Acts on one; false when it was no longer a dead letter. */
  settle(queue: DeadLetterQueue, id: string): Promise<boolean>;
  /** A closing line for people (what happens next), if any. */
  readonly afterwards?: (settled: readonly DeadLetterSummary[]) => string | undefined;
}

/**
 * Resolves the selection (an ID, or `--all`/filters), asks for
 * confirmation where needed, settles each dead letter and says what was
 * done. Every refusal (usage, no confirmation) comes before anything
 * changes; an outage midway says how far it got.
 */
export async function settleDeadLetters(
  context: CommandContext,
  args: CommandArgs,
  how: Settlement,
): Promise<number> {
  const selection = selectionOf(context, args, how.verb, { requireAll: how.requireAll });
  const queue = new DeadLetterQueue(context);
  const partitionCount = context.config.partitionCount;
  let selected: DeadLetterSummary[];
  let more = false;
  if (selection.kind === 'one') {
    const letter = await queue.get(selection.id);
    if (!letter) {
      throw new CliError(
        'NOT_FOUND',
        `No dead letter with id ${selection.id} — list them with \`tributary dead-letters list\`. Nothing was changed.`,
      );
    }
    selected = [summarize(letter, partitionCount)];
  } else {
    const read = await queue.list({ ...listFilter(selection.filters), limit: MAX_SELECTED });
    more = read.length >= MAX_SELECTED;
    selected = read
      .filter((letter) => reasonMatches(letter.reason, selection.filters))
      .map((letter) => summarize(letter, partitionCount));
    if (selected.length === 0) {
      const which = describeFilters(selection.filters);
      report(
        context,
        how,
        [],
        [],
        `No dead letters${which ? ` ${which}` : ''}: nothing to ${how.verb}.`,
      );
      return EXIT.ok;
    }
  }

  const events = selected.reduce((sum, s) => sum + (s.events ?? 0), 0);
  const ask = (selected.length > 1 || how.confirmOne) && !flag(args, 'yes');
  if (ask && !(await context.confirm(how.question(selected.length, events)))) {
    throw new CliError(
      'UNSAFE',
      `Nothing was ${how.done.toLowerCase()}: not confirmed. Answer y when asked, or pass --yes (needed where there is no terminal to ask on).`,
    );
  }

  const settled: DeadLetterSummary[] = [];
  const missing: string[] = [];
  for (const summary of selected) {
    try {
      if (await how.settle(queue, summary.letter.id)) settled.push(summary);
      else missing.push(summary.letter.id);
    } catch (error) {
      // Say what was done before the failure: those are changed already.
      if (settled.length > 0) report(context, how, settled, missing);
      if (error instanceof CliError && settled.length > 0) {
        throw new CliError(
          error.code,
          `${error.message}\n${how.done} ${settled.length} of ${selected.length} before that; run the command again for the rest.`,
          { cause: error },
        );
      }
      throw error;
    }
  }
  report(context, how, settled, missing);
  if (more) {
    context.out.warn(
      `Only the oldest ${MAX_SELECTED} dead letters were read; run the command again for the rest.`,
    );
  }
  return missing.length > 0 ? EXIT.findings : EXIT.ok;
}

function listFilter(filters: DeadLetterFilters): { partition?: number } {
  return filters.partition === undefined ? {} : { partition: filters.partition };
}

function report(
  context: CommandContext,
  how: Settlement,
  settled: readonly DeadLetterSummary[],
  missing: readonly string[],
  nothing?: string,
): void {
  if (context.json) {
    context.out.print(
      JSON.stringify(
        {
          [how.done.toLowerCase()]: settled.map((s) => ({
            id: s.letter.id,
            partition: s.letter.partition,
            events: s.events ?? null,
            eventsInLake: s.letter.eventsInLake.length,
          })),
          missing,
        },
        null,
        2,
      ),
    );
    return;
  }
  if (nothing) context.out.print(nothing);
  for (const s of settled) {
    const events =
      s.events === undefined
        ? 'undecodable body'
        : `${s.events} event${s.events === 1 ? '' : 's'}, ${s.letter.eventsInLake.length} already in the lake`;
    context.out.print(`${how.done} ${s.letter.id} (partition ${s.letter.partition}, ${events})`);
  }
  if (missing.length > 0) {
    context.out.warn(
      `No longer dead letters (requeued or purged meanwhile, by someone else?): ${missing.join(', ')}`,
    );
  }
  const closing = settled.length > 0 ? how.afterwards?.(settled) : undefined;
  if (closing) context.out.warn(closing);
}
