import { COMMANDS } from '../src/commands.ts';
import { type CliIo, runCli } from '../src/run-cli.ts';

/** What one in-process run of `tributary` printed, and its exit code. */
export interface TributaryRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** `stdout` parsed (for `--json` runs). */
  json<T = unknown>(): T;
}

/**
 * Runs `tributary …argv` in this process with `env` as its whole
 * environment; `answers` are the operator's replies to confirmations (none:
 * no terminal, so every confirmation is refused).
 */
export async function runTributary(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  options: {
    answers?: string[];
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
    signal?: AbortSignal;
  } = {},
): Promise<TributaryRun> {
  let stdout = '';
  let stderr = '';
  const answers = options.answers ? [...options.answers] : undefined;
  const io: CliIo = {
    env,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    ...(answers ? { ask: async () => answers.shift() ?? '' } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const code = await runCli(argv, io, COMMANDS);
  return { code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T };
}
