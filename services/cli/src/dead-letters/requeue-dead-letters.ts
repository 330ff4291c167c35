import type { Command } from '../command.ts';
import { SELECTION_OPTIONS, selectionHelpTail, settleDeadLetters } from './settle-dead-letters.ts';

export const requeueDeadLetters: Command = {
  name: 'dead-letters requeue',
  summary: 'Puts dead letters back on their partitions, once the cause is fixed',
  usage: 'ID | --all | --partition P | --reason TEXT [--yes]',
  help: [
    'Puts each dead letter back at the end of its partition, marked as requeued and with its',
    'record of the events already in the lake. Writers then write each of its events exactly',
    'once: those the lake holds already are skipped, and events behind the partition’s',
    'checkpoint are written as a replay file beside the others.',
    '',
    'Which ones:',
    '  ID              that dead letter alone',
    '  --all           every dead letter',
    '  --partition P   those of partition P (with --all or --reason too: both must match)',
    '  --reason TEXT   those whose reason contains TEXT (any case)',
    '',
    'Options:',
    '  --yes           do not ask: needed for more than one where there is no terminal',
    '  --json          one JSON document: what was requeued, and what was no longer there',
    '',
    ...selectionHelpTail('requeued'),
  ].join('\n'),
  options: SELECTION_OPTIONS,
  positionals: { min: 0, max: 1 },
  run: (context, args) =>
    settleDeadLetters(context, args, {
      verb: 'requeue',
      done: 'Requeued',
      requireAll: false,
      confirmOne: false,
      question: (count, events) =>
        `Requeue ${count} dead letters (${events} events) onto their partitions?`,
      settle: (queue, id) => queue.requeue(id),
      afterwards: () =>
        'Writers take them in turn and write each event once; `tributary dead-letters list` shows any that fail again.',
    }),
};
