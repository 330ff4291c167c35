import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The standalone command, run as its own process. */
export const CLI_PATH = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

/** An emulator running in a child process (so a test can SIGKILL it). */
export interface EmulatorProcess {
  child: ChildProcess;
  url: string;
  connectionString: string;
  output: () => string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | string | null>;
}

/** Starts `cli.ts` with `args` and waits until it prints its URL. */
export async function startEmulatorProcess(args: string[]): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? code));
  });
  const started = new Promise<{ url: string; connectionString: string }>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const url = /^url: (\S+)$/m.exec(output)?.[1];
      const connectionString = /^connection string: (\S+)$/m.exec(output)?.[1];
      if (url && connectionString) resolve({ url, connectionString });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    void exited.then((code) =>
      reject(new Error(`emulator exited early (${String(code)}): ${output}`)),
    );
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000);
  try {
    const { url, connectionString } = await started;
    return { child, url, connectionString, output: () => output, exited };
  } finally {
    clearTimeout(timeout);
  }
}
