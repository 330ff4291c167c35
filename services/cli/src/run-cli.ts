import { parseArgs } from 'node:util';
import {
  type EnvSource,
  SecretRedactor,
  cliSettings,
  isConfigError,
  isTributaryError,
  loadCliConfig,
  secretValues,
  sleep,
} from '@tributary/core';
import { EXIT, exitCodeOf, isCliError } from './cli-error.ts';
import type { Command, CommandContext, CliOutput } from './command.ts';
import { Systems } from './systems.ts';

/** The process around a run: streams, environment, clock. */
export interface CliIo {
  readonly env: EnvSource;
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Reads one answer line from the operator; absent without a terminal. */
  readonly ask?: (question: string) => Promise<string>;
  readonly now?: () => number;
  /** Waits `ms` (default: a timer, ended early by `signal`). */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly signal?: AbortSignal;
}

/**
 * Runs `tributary <command> …` and returns its exit code. Usage errors,
 * configuration errors and unreachable systems end with a message naming
 * the problem and what to do (secrets redacted), and change nothing. Any
 * other error is caught here too, never left to Node to print: its message
 * may hold a secret (a connection URI), so it is redacted like the rest,
 * and the run ends with `EXIT.software`.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  commands: readonly Command[],
): Promise<number> {
  const redactor = new SecretRedactor(secretValues(cliSettings, io.env));
  const fail = (message: string, code: number): number => {
    io.stderr.write(`tributary: ${redactor.redactText(message)}\n`);
    return code;
  };
  const unexpected = (error: unknown): number => {
    fail(
      `unexpected error: ${error instanceof Error ? error.message : String(error)}`,
      EXIT.software,
    );
    // The stack says where, for a bug report; only on request, and redacted too.
    if (io.env.TRIBUTARY_LOG_LEVEL === 'debug' && error instanceof Error && error.stack)
      io.stderr.write(`${redactor.redactText(error.stack)}\n`);
    return EXIT.software;
  };
  try {
    return await runCommand(argv, io, commands, redactor, fail);
  } catch (error) {
    return unexpected(error);
  }
}

/** Finds, parses and runs the command; errors other than Tributary's are the caller's. */
async function runCommand(
  argv: readonly string[],
  io: CliIo,
  commands: readonly Command[],
  redactor: SecretRedactor,
  fail: (message: string, code: number) => number,
): Promise<number> {
  const found = findCommand(argv, commands);
  if (!found) {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      io.stdout.write(`${overview(commands)}\n`);
      return EXIT.ok;
    }
    return fail(
      `unknown command '${argv.slice(0, 2).join(' ')}'.\n\n${overview(commands)}`,
      EXIT.usage,
    );
  }
  const { command, rest } = found;
  let parsed;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: {
        ...command.options,
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return fail(
      `${(error as Error).message}\n\nUsage: ${usageLine(command)}\nSee 'tributary ${command.name} --help'.`,
      EXIT.usage,
    );
  }
  if (parsed.values.help) {
    io.stdout.write(`Usage: ${usageLine(command)}\n\n${command.summary}\n\n${command.help}\n`);
    return EXIT.ok;
  }
  const { min, max } = command.positionals;
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    return fail(
      `'${command.name}' takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${parsed.positionals.length}.\n\nUsage: ${usageLine(command)}`,
      EXIT.usage,
    );
  }
  let config;
  try {
    config = loadCliConfig(io.env);
  } catch (error) {
    if (isConfigError(error)) return fail(error.message, EXIT.config);
    throw error; // unexpected: `runCli` says so, redacted
  }
  const systems = new Systems(config);
  const signal = io.signal ?? new AbortController().signal;
  const context: CommandContext = {
    config,
    json: parsed.values.json === true,
    out: output(io, redactor),
    systems,
    confirm: async (question) => {
      if (!io.ask) return false;
      const answer = await io.ask(`${question} [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    },
    now: io.now ?? Date.now,
    sleep: io.sleep ?? ((ms) => sleep(ms, signal)),
    signal,
  };
  try {
    return await command.run(context, parsed);
  } catch (error) {
    if (isCliError(error)) return fail(error.message, exitCodeOf(error.code));
    if (isTributaryError(error) && error.retryable)
      return fail(
        `${error.message}\nA system the command needs cannot be reached; check that it runs and that the settings point at it, then run the command again. Nothing was changed.`,
        EXIT.unavailable,
      );
    if (isTributaryError(error)) return fail(error.message, EXIT.findings);
    throw error; // unexpected: `runCli` says so, redacted
  } finally {
    await systems.close();
  }
}

function findCommand(
  argv: readonly string[],
  commands: readonly Command[],
): { command: Command; rest: readonly string[] } | undefined {
  const two = argv.slice(0, 2).join(' ');
  const byTwo = commands.find((c) => c.name === two);
  if (byTwo) return { command: byTwo, rest: argv.slice(2) };
  const byOne = commands.find((c) => c.name === argv[0]);
  return byOne ? { command: byOne, rest: argv.slice(1) } : undefined;
}

function usageLine(command: Command): string {
  return `tributary ${command.name}${command.usage ? ` ${command.usage}` : ''} [--json]`;
}

function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: tributary <command> [options] [--json]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Configured by the services' environment (TRIBUTARY_TRANSPORT, REDIS_URL, TRIBUTARY_LAKE, …).",
    "Run 'tributary <command> --help' for a command's options.",
  ].join('\n');
}

function output(io: CliIo, redactor: SecretRedactor): CliOutput {
  let lastProgress = 0;
  return {
    print: (text) => io.stdout.write(`${redactor.redactText(text)}\n`),
    warn: (text) => io.stderr.write(`${redactor.redactText(text)}\n`),
    progress: (text, done = false) => {
      if (io.stderr.isTTY) {
        io.stderr.write(`\r\x1b[2K${text}${done ? '\n' : ''}`);
        return;
      }
      const now = Date.now();
      if (!done && now - lastProgress < 1000) return;
      lastProgress = now;
      io.stderr.write(`${text}\n`);
    },
  };
}
