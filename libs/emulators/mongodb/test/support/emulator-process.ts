import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AGAINST_REAL_SERVER } from './conformance-target.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

/** A server in another process: the real one (MONGODB_URI), or the emulator's command. */
export interface ServerProcess {
  uri: string;
  /** Stops the emulator process (nothing against a real server). */
  stop(): Promise<void>;
}

/**
 * Starts the emulator as its own process (with extra command-line
 * `options`), for tests of faults that would freeze an event loop — a frozen
 * child makes the test fail on a timeout, where an in-process emulator would
 * hang the test runner itself — and for crash tests: `stop()` is a SIGKILL.
 */
export async function startServerProcess(options: string[] = []): Promise<ServerProcess> {
  if (AGAINST_REAL_SERVER)
    return { uri: process.env.MONGODB_URI as string, stop: () => Promise.resolve() };
  const child = spawn(process.execPath, [CLI, '--port', '0', ...options], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const uri = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the emulator did not print a URI')), 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('mongodb://'));
      if (line) {
        clearTimeout(timer);
        resolve(line.trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the emulator exited early with ${code}`));
    });
  });
  return {
    uri,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // SIGKILL: a frozen emulator would never handle SIGTERM.
        child.kill('SIGKILL');
      }
      await exited;
    },
  };
}
