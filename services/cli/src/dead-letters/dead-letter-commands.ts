import type { Command } from '../command.ts';
import { listDeadLetters } from './list-dead-letters.ts';
import { showDeadLetter } from './show-dead-letter.ts';

/** `tributary dead-letters list | show`. */
export const DEAD_LETTER_COMMANDS: readonly Command[] = [listDeadLetters, showDeadLetter];
