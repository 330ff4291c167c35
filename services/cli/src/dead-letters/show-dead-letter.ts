import { EJSON } from 'bson';
import { CliError, EXIT } from '../cli-error.ts';
import type { Command, CommandArgs, CommandContext } from '../command.ts';
import { formatTime } from '../output/table.ts';
import { countOption } from './dead-letter-arguments.ts';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import {
  type DeadLetterSummary,
  eventJson,
  keyRange,
  reasonHead,
  requeuedAt,
  summarize,
  summaryJson,
} from './dead-letter-summary.ts';

const DEFAULT_EVENTS = 20;
/** Bytes of an undecodable body shown, in hex. */
const POISON_PREVIEW_BYTES = 64;

export const showDeadLetter: Command = {
  name: 'dead-letters show',
  summary: 'One dead letter: its envelope, reason, times and events (MongoDB Extended JSON)',
  usage: 'ID [--limit N]',
  help: [
    'Shows the batch envelope (partition, generation, sequence, previous key, position),',
    'headers, the whole reason, failed attempts, first failure and dead-lettering times, the',
    'keys already in the lake, and the events as their lake lines would read (relaxed',
    'MongoDB Extended JSON with `_tributary`). A claim-checked event shows where its change',
    'event is kept in the lake.',
    '',
    'Options:',
    `  --limit N   show at most N events (default ${DEFAULT_EVENTS})`,
    '  --json      one JSON document',
    '',
    'Exit status: 0 when shown, 1 when no dead letter has this id, 69 when the queue',
    'cannot be reached.',
  ].join('\n'),
  options: { limit: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  run: show,
};

async function show(context: CommandContext, args: CommandArgs): Promise<number> {
  const id = args.positionals[0] as string;
  const limit = countOption(args, 'limit', DEFAULT_EVENTS);
  const letter = await new DeadLetterQueue(context).get(id);
  if (!letter) {
    throw new CliError(
      'NOT_FOUND',
      `No dead letter with id ${id} — list them with \`tributary dead-letters list\`.`,
    );
  }
  const summary = summarize(letter, context.config.partitionCount);
  const events = summary.batch?.events ?? [];
  const shown = Math.min(limit, events.length);
  const batch = summary.batch;
  if (context.json) {
    context.out.print(
      JSON.stringify(
        {
          deadLetter: summaryJson(summary),
          envelope: batch
            ? {
                partition: batch.partition,
                generation: batch.generation,
                sequence: batch.sequence,
                previousKey: batch.previousKey,
                position: {
                  key: batch.position.key,
                  token: EJSON.serialize(batch.position.token, { relaxed: true }),
                },
              }
            : null,
          events: batch ? Array.from({ length: shown }, (_, i) => eventJson(batch, i)) : [],
          moreEvents: events.length - shown,
        },
        null,
        2,
      ),
    );
    return EXIT.ok;
  }
  context.out.print(describe(summary));
  if (batch && events.length > 0) {
    const inLake = new Set(letter.eventsInLake);
    context.out.print(
      `\nEvents (${shown === events.length ? `all ${events.length}` : `${shown} of ${events.length}`}):`,
    );
    for (let i = 0; i < shown; i += 1) {
      const entry = events[i];
      const mark = entry && inLake.has(entry.key) ? '  (already in the lake)' : '';
      context.out.print(`\n#${i + 1} ${entry?.key ?? ''}${mark}`);
      context.out.print(JSON.stringify(eventJson(batch, i), null, 2));
    }
    if (shown < events.length) {
      const more = events.length - shown;
      context.out.print(
        `\n… and ${more} more event${more === 1 ? '' : 's'} (pass --limit ${events.length} to see them all).`,
      );
    }
  }
  return EXIT.ok;
}

/** The envelope, times, reason and headers, one field a line. */
function describe(summary: DeadLetterSummary): string {
  const { letter, batch } = summary;
  const field = (name: string, value: string) => `  ${name.padEnd(15)}${value}`;
  const lines = [`Dead letter ${letter.id}`, field('partition', String(letter.partition))];
  if (batch) {
    lines.push(
      field('generation', String(batch.generation)),
      field('sequence', String(batch.sequence)),
      field('previous key', batch.previousKey || '(none: the first batch it knows of)'),
      field('position', batch.position.key),
      field('resume token', EJSON.stringify(batch.position.token, { relaxed: true })),
      field(
        'events',
        `${batch.events.length} (${letter.eventsInLake.length} already in the lake${
          summary.claimChecked > 0 ? `, ${summary.claimChecked} claim-checked` : ''
        })`,
      ),
      field('keys', keyRange(summary)),
      field('namespaces', summary.namespaces.join(', ') || '-'),
    );
  } else {
    const preview = Buffer.from(letter.body.subarray(0, POISON_PREVIEW_BYTES)).toString('hex');
    lines.push(
      field('body', `undecodable (${letter.body.byteLength} bytes): ${summary.undecodable ?? ''}`),
      field(
        'first bytes',
        `${preview.replace(/(..)(?!$)/g, '$1 ')}${letter.body.byteLength > POISON_PREVIEW_BYTES ? ' …' : ''}`,
      ),
    );
  }
  lines.push(
    field('attempts', String(letter.failedAttempts)),
    field('first failure', formatTime(letter.firstFailedAt)),
    field('dead-lettered', formatTime(letter.deadLetteredAt)),
  );
  const requeued = requeuedAt(letter);
  if (requeued) lines.push(field('requeued at', `${requeued} (it failed again after a requeue)`));
  // As Service Bus keeps them: the first line is the reason, the rest its description.
  const [, ...description] = letter.reason.trimEnd().split('\n');
  lines.push('', `Reason: ${reasonHead(letter.reason)}`);
  if (description.length > 0) lines.push('Description:', ...description.map((line) => `  ${line}`));
  const headers = Object.entries(letter.headers);
  lines.push('', headers.length > 0 ? 'Headers:' : 'Headers: none');
  for (const [name, value] of headers) lines.push(`  ${name}: ${value}`);
  if (letter.eventsInLake.length > 0) {
    lines.push('', `Already in the lake (${letter.eventsInLake.length}):`);
    for (const key of letter.eventsInLake) lines.push(`  ${key}`);
  }
  return lines.join('\n');
}
