/**
 * The `tributary` operator command's process entry: runs one command with
 * this process's environment and streams, and exits with its code.
 */
import { createInterface } from 'node:readline/promises';
import { COMMANDS } from './commands.ts';
import { runCli } from './run-cli.ts';

const interrupted = new AbortController();
process.once('SIGINT', () => interrupted.abort());
const ask = process.stdin.isTTY
  ? async (question: string): Promise<string> => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    }
  : undefined;
process.exitCode = await runCli(
  process.argv.slice(2),
  {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    signal: interrupted.signal,
    ...(ask ? { ask } : {}),
  },
  COMMANDS,
);
