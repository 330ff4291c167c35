import { EXIT } from '../cli-error.ts';
import type { Command, CommandArgs, CommandContext } from '../command.ts';
import { type Cell, formatTime, renderTable } from '../output/table.ts';
import { countOption, describeFilters, filtersOf, reasonMatches } from './dead-letter-arguments.ts';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import {
  type DeadLetterSummary,
  keyRange,
  reasonHead,
  shortReason,
  summarize,
  summaryJson,
} from './dead-letter-summary.ts';

/** Dead letters read at most, unless `--limit` says otherwise. */
const DEFAULT_LIMIT = 1000;

/** One group of the counts table. */
interface ReasonCount {
  /** The reason's first line. */
  readonly reason: string;
  readonly partition: number;
  readonly deadLetters: number;
  /** Events in the group's decodable batches. */
  readonly events: number;
}

export const listDeadLetters: Command = {
  name: 'dead-letters list',
  summary: 'Dead letters: how many per reason and partition, then one row each',
  usage: '[--partition P] [--reason TEXT] [--since TIME] [--limit N]',
  help: [
    'Counts the dead letters by reason (its first line) and partition, then lists them oldest',
    'first: id, partition, events, the range of their ordering keys, namespaces, reason,',
    'failed attempts, first and last failure (the dead-lettering), and how many of the',
    'events had already reached the lake. A body that does not decode is listed as such.',
    '',
    'Options:',
    '  --partition P   only partition P',
    '  --reason TEXT   only those whose reason contains TEXT (any case)',
    '  --since TIME    only those dead-lettered since TIME: ISO 8601 with a zone',
    '                  (2026-05-01T12:00:00Z) or a span back from now (30m, 2h, 7d)',
    `  --limit N       read at most N dead letters, oldest first (default ${DEFAULT_LIMIT})`,
    '  --json          one JSON document: totals, counts and every field of each dead letter',
    '',
    'Exit status: 0 when there are none (matching the filters), 1 when there are: dead',
    'letters are batches the writers gave up on, which an operator must look at.',
    '69 when the queue cannot be reached.',
    '',
    'Then: `tributary dead-letters show ID` for one; once the cause is fixed,',
    '`tributary dead-letters requeue …`; `purge` only what must never be written.',
  ].join('\n'),
  options: {
    partition: { type: 'string' },
    reason: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
  },
  positionals: { min: 0, max: 0 },
  run: list,
};

async function list(context: CommandContext, args: CommandArgs): Promise<number> {
  const filters = filtersOf(context, args, { since: true });
  const limit = countOption(args, 'limit', DEFAULT_LIMIT);
  const queue = new DeadLetterQueue(context);
  const read = await queue.list({
    limit,
    ...(filters.partition === undefined ? {} : { partition: filters.partition }),
    ...(filters.since === undefined ? {} : { since: filters.since }),
  });
  const cut = read.length >= limit;
  const unfiltered = filters.partition === undefined && filters.since === undefined;
  // Counting means reading the whole set on Service Bus: only when the listing cannot tell.
  const total =
    !cut && unfiltered && filters.reason === undefined ? read.length : await queue.count();
  const summaries = read
    .filter((letter) => reasonMatches(letter.reason, filters))
    .map((letter) => summarize(letter, context.config.partitionCount));
  const counts = countsOf(summaries);

  if (context.json) {
    context.out.print(
      JSON.stringify(
        {
          total,
          matched: summaries.length,
          cut,
          limit,
          filters: {
            partition: filters.partition ?? null,
            reason: filters.reason ?? null,
            since: filters.since?.toISOString() ?? null,
          },
          counts,
          deadLetters: summaries.map(summaryJson),
        },
        null,
        2,
      ),
    );
  } else {
    context.out.print(headline(summaries.length, total, describeFilters(filters)));
    if (summaries.length > 0) {
      context.out.print(
        [
          '',
          renderTable(
            ['REASON', 'PARTITION', 'DEAD LETTERS', 'EVENTS'],
            counts.map((c) => [shortReason(c.reason), c.partition, c.deadLetters, c.events]),
          ),
          '',
          renderTable(
            [
              'ID',
              'PART',
              'EVENTS',
              'KEYS',
              'NAMESPACES',
              'REASON',
              'ATTEMPTS',
              'FIRST FAILURE',
              'DEAD-LETTERED',
              'IN LAKE',
            ],
            summaries.map(row),
          ),
        ].join('\n'),
      );
      context.out.warn(
        'Look at one with `tributary dead-letters show ID`; once the cause is fixed, put them back with `tributary dead-letters requeue`.',
      );
    }
  }
  if (cut) {
    context.out.warn(
      `Only the oldest ${limit} were read (--limit ${limit}); there may be more: pass a larger --limit.`,
    );
  }
  return summaries.length > 0 ? EXIT.findings : EXIT.ok;
}

function headline(matched: number, total: number, filters: string): string {
  if (matched === 0 && total === 0) return 'No dead letters.';
  const which = filters ? ` ${filters}` : '';
  const count = `${matched.toLocaleString('en-US')} dead letter${matched === 1 ? '' : 's'}${which}`;
  return total === matched ? `${count}.` : `${count} (${total.toLocaleString('en-US')} in all).`;
}

function row(summary: DeadLetterSummary): Cell[] {
  const { letter } = summary;
  return [
    letter.id,
    letter.partition,
    summary.events,
    keyRange(summary),
    summary.namespaces.join(', ') || undefined,
    shortReason(letter.reason, 48),
    letter.failedAttempts,
    formatTime(letter.firstFailedAt),
    formatTime(letter.deadLetteredAt),
    letter.eventsInLake.length,
  ];
}

/** Dead letters and events per reason (first line) and partition, most dead letters first. */
function countsOf(summaries: readonly DeadLetterSummary[]): ReasonCount[] {
  const groups = new Map<string, ReasonCount>();
  for (const summary of summaries) {
    const reason = reasonHead(summary.letter.reason);
    const partition = summary.letter.partition;
    const key = JSON.stringify([reason, partition]);
    const group = groups.get(key) ?? { reason, partition, deadLetters: 0, events: 0 };
    groups.set(key, {
      ...group,
      deadLetters: group.deadLetters + 1,
      events: group.events + (summary.events ?? 0),
    });
  }
  return [...groups.values()].sort(
    (a, b) =>
      b.deadLetters - a.deadLetters ||
      a.partition - b.partition ||
      a.reason.localeCompare(b.reason),
  );
}
