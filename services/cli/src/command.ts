import type { ParseArgsOptionsConfig } from 'node:util';
import type { CliConfig } from '@tributary/core';
import type { Systems } from './systems.ts';

/** Where a command's output goes. */
export interface CliOutput {
  /** A line (or lines) on standard output. */
  print(text: string): void;
  /** Standard error: warnings, hints. */
  warn(text: string): void;
  /**
   * Progress of long work on standard error: one line rewritten in place
   * on a terminal, one line per call (at most one per second) elsewhere.
   * `done` ends the progress line.
   */
  progress(text: string, done?: boolean): void;
}

/** What a command runs with. */
export interface CommandContext {
  readonly config: CliConfig;
  /** `--json`: one JSON document on standard output instead of tables. */
  readonly json: boolean;
  readonly out: CliOutput;
  readonly systems: Systems;
  /**
   * Asks the operator a yes/no question on the terminal. False without a
   * terminal (a script must pass `--yes`).
   */
  confirm(question: string): Promise<boolean>;
  /** Milliseconds since the epoch (tests control it). */
  now(): number;
  /** Waits `ms`, or until {@link signal} is aborted (tests control it). */
  sleep(ms: number): Promise<void>;
  /** Aborted on Ctrl-C: `--watch` loops end. */
  readonly signal: AbortSignal;
}

/** Parsed arguments of one command. */
export interface CommandArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | boolean[] | undefined>>;
  readonly positionals: readonly string[];
}

/** One subcommand: `tributary <name> [positionals] [options]`. */
export interface Command {
  /** One or two words: `status`, `dead-letters list`. */
  readonly name: string;
  readonly summary: string;
  /** The arguments after the name, as shown in help: `ID [--limit N]`. */
  readonly usage: string;
  /** Longer help: what it does, its options one per line. */
  readonly help: string;
  /** Options besides `--json` and `--help` (node:util parseArgs). */
  readonly options: ParseArgsOptionsConfig;
  /** How many positionals it takes. */
  readonly positionals: { readonly min: number; readonly max: number };
  /** The exit code (see `EXIT`). */
  run(context: CommandContext, args: CommandArgs): Promise<number>;
}
