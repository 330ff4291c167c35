import { COMMANDS, runCli } from '@tributary/cli';

/** What one run of the operator command printed, and its exit code. */
export interface OperatorRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** `stdout` parsed (a `--json` run). */
  json<T = unknown>(): T;
}

/**
 * Runs `tributary …argv` in this process, configured by `env` alone (a
 * pipeline's environment: the same queue, checkpoints and lake as its
 * services); `answers` are the operator's replies to confirmations (none:
 * no terminal, every confirmation refused).
 */
export async function tributary(
  env: Readonly<Record<string, string>>,
  argv: readonly string[],
  answers?: readonly string[],
): Promise<OperatorRun> {
  let stdout = '';
  let stderr = '';
  const replies = answers ? [...answers] : undefined;
  const code = await runCli(
    argv,
    {
      env,
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      ...(replies ? { ask: async () => replies.shift() ?? '' } : {}),
    },
    COMMANDS,
  );
  return { code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T };
}
