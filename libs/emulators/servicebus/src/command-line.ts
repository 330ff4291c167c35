import { parseArgs } from 'node:util';

/**
 * The command line of a standalone emulator: options declared once, with
 * what `--help` says of each, parsed by Node's `parseArgs`. `--help`/`-h`
 * prints the usage and exits 0; an unknown option, a missing value or a
 * stray argument names the culprit, points to --help and exits 64
 * (EX_USAGE, sysexits.h). Each emulator package keeps its own copy of this
 * file: emulators depend on no other workspace package.
 */
export interface CommandOption {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean | string[];
  /** Placeholder of the value in the usage (string options). */
  value?: string;
  /** What the option does. */
  help: string;
  /** The default as the usage states it, where there is no literal one (or it reads better). */
  shownDefault?: string;
}

/** What a command says about itself in its usage. */
export interface CommandDescription {
  /** How to run it, e.g. `node libs/emulators/x/src/cli.ts [options]`. */
  synopsis: string;
  /** What it does, one paragraph. */
  summary: string;
  options: Record<string, CommandOption>;
}

/** EX_USAGE: the command was used incorrectly. */
export const EXIT_USAGE = 64;

type Values = Record<string, string | boolean | string[] | undefined>;

/** The usage text `--help` prints. */
export function usage(command: CommandDescription): string {
  const rows = Object.entries(command.options).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : ''}--${name}${option.value ? ` ${option.value}` : ''}`;
    const shown = option.shownDefault ?? (option.type === 'string' ? option.default : undefined);
    return [flag, `${option.help}${shown !== undefined ? ` (default: ${String(shown)})` : ''}`];
  });
  const width = Math.max(...rows.map(([flag]) => (flag as string).length)) + 2;
  const lines = rows.map(([flag, text]) => `  ${(flag as string).padEnd(width)}${text}`);
  return `usage: ${command.synopsis}\n\n${command.summary}\n\noptions:\n${lines.join('\n')}\n`;
}

/** Prints `message` and the pointer to --help on stderr, and exits 64. */
export function exitWithUsageError(message: string): never {
  console.error(`${message}\nRun with --help to see the options.`);
  process.exit(EXIT_USAGE);
}

/**
 * Parses the process's arguments against the command's options; on --help
 * prints the usage and exits 0, on a usage error exits 64 (nothing returns).
 */
export function parseCommandLine(
  command: CommandDescription,
  args = process.argv.slice(2),
): Values {
  const config = Object.fromEntries(
    Object.entries(command.options).map(([name, { type, short, multiple, default: value }]) => [
      name,
      {
        type,
        ...(short ? { short } : {}),
        ...(multiple ? { multiple } : {}),
        ...(value !== undefined ? { default: value } : {}),
      },
    ]),
  );
  // Not strict: the tokens name an unknown option exactly, where strict mode only throws a sentence.
  const { values, tokens } = parseArgs({ args, options: config, strict: false, tokens: true });
  if (values.help === true) {
    process.stdout.write(usage(command));
    process.exit(0);
  }
  for (const token of tokens) {
    if (token.kind === 'positional') exitWithUsageError(`unexpected argument '${token.value}'`);
    if (token.kind !== 'option') continue;
    const option = command.options[token.name];
    if (!option) exitWithUsageError(`unknown option '${token.rawName}'`);
    // Without strict mode parseArgs takes the next argument as the value even when it is an option.
    const missing =
      token.value === undefined || (!token.inlineValue && token.value.startsWith('-'));
    if (option.type === 'string' && missing)
      exitWithUsageError(
        `option '${token.rawName}' needs a value: --${token.name} ${option.value ?? 'VALUE'}`,
      );
    if (option.type === 'boolean' && token.value !== undefined)
      exitWithUsageError(`option '${token.rawName}' takes no value`);
  }
  return values as Values;
}
