import type { Command } from '../command.ts';
import { listDeadLetters } from './list-dead-letters.ts';
import { purgeDeadLetters } from './purge-dead-letters.ts';
import { requeueDeadLetters } from './requeue-dead-letters.ts';
import { showDeadLetter } from './show-dead-letter.ts';

/** `tributary dead-letters list | show | requeue | purge`. */
export const DEAD_LETTER_COMMANDS: readonly Command[] = [
  listDeadLetters,
  showDeadLetter,
  requeueDeadLetters,
  purgeDeadLetters,
];
