import type { Command } from './command.ts';
import { DEAD_LETTER_COMMANDS } from './dead-letters/dead-letter-commands.ts';
import { RESUME_POINT_COMMANDS } from './resume-point/resume-point-commands.ts';
import { statusCommand } from './status/status-command.ts';
import { verifyCommand } from './verify/verify-command.ts';

/** Every subcommand of `tributary`, in the order help lists them. */
export const COMMANDS: readonly Command[] = [
  statusCommand,
  ...DEAD_LETTER_COMMANDS,
  verifyCommand,
  ...RESUME_POINT_COMMANDS,
];
