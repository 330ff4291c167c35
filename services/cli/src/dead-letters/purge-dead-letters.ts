import { deadLetteredClaimPath, isClaimed } from '@tributary/core';
import type { Command } from '../command.ts';
import type { DeadLetterSummary } from './dead-letter-summary.ts';
import { SELECTION_OPTIONS, selectionHelpTail, settleDeadLetters } from './settle-dead-letters.ts';

export const purgeDeadLetters: Command = {
  name: 'dead-letters purge',
  summary: 'Removes dead letters for good (asks first)',
  usage: 'ID | --all [--partition P] [--reason TEXT] [--yes]',
  help: [
    'Removes dead letters from the queue for good: their events are then in no queue, and',
    'only MongoDB’s history (while the oplog still has it) holds the ones not in the lake.',
    'For a batch that must never be written; to write it, fix the cause and requeue instead.',
    '',
    'Which ones:',
    '  ID              that dead letter alone',
    '  --all           every dead letter, narrowed by:',
    '    --partition P   only partition P',
    '    --reason TEXT   only those whose reason contains TEXT (any case)',
    '',
    'Options:',
    '  --yes           do not ask; without it the command asks on the terminal, and with no',
    '                  terminal it refuses and changes nothing',
    '  --json          one JSON document: what was purged, and what was no longer there',
    '',
    ...selectionHelpTail('purged'),
  ].join('\n'),
  options: SELECTION_OPTIONS,
  positionals: { min: 0, max: 1 },
  run: (context, args) =>
    settleDeadLetters(context, args, {
      verb: 'purge',
      done: 'Purged',
      requireAll: true,
      confirmOne: true,
      question: (count, events) =>
        `Purge ${count} dead letter${count === 1 ? '' : 's'} (${events} events) for good? They cannot be requeued afterwards.`,
      settle: (queue, id) => queue.purge(id),
      afterwards: keptClaims,
    }),
};

/** Claim-checked events of purged dead letters stay in the lake: say where. */
function keptClaims(purged: readonly DeadLetterSummary[]): string | undefined {
  const paths = purged.flatMap((s) =>
    (s.batch?.events ?? [])
      .filter(isClaimed)
      .filter((entry) => !s.letter.eventsInLake.includes(entry.key))
      .map((entry) => deadLetteredClaimPath(entry.claim)),
  );
  if (paths.length === 0) return undefined;
  return [
    `${paths.length} claim-checked event${paths.length === 1 ? ' is' : 's are'} still kept in the lake for them; delete once no longer needed:`,
    ...paths.map((path) => `  ${path}`),
  ].join('\n');
}
