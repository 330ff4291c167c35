export { runCli, type CliIo } from './run-cli.ts';
export { COMMANDS } from './commands.ts';
export { CliError, EXIT, isCliError, type CliErrorCode } from './cli-error.ts';
export type { Command, CommandArgs, CommandContext, CliOutput } from './command.ts';
export { renderTable, formatDuration, formatTime, type Cell } from './output/table.ts';
