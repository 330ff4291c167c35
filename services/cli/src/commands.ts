import type { Command } from './command.ts';
import { statusCommand } from './status/status-command.ts';

/** Every subcommand of `tributary`, in the order help lists them. */
export const COMMANDS: readonly Command[] = [statusCommand];
