import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The standalone command, run as its own process. */
export const CLI_PATH = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

/** An emulator running in a child process (so a test can SIGKILL it). */
export interface EmulatorProcess {
  child: ChildProcess;
  connectionString: string;
  port: number;
  output: () => string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | string | null>;
}

/** Starts `cli.ts` with `args` and waits until it prints its connection string. */
export async function startEmulatorProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let output = '';
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? code));
  });
  const started = new Promise<{ connectionString: string; port: number }>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const connectionString = /^connection string: (\S+)$/m.exec(output)?.[1];
      const port = /listening on \S+:(\d+)$/m.exec(output)?.[1];
      if (connectionString && port) resolve({ connectionString, port: Number(port) });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    void exited.then((code) =>
      reject(new Error(`emulator exited early (${String(code)}): ${output}`)),
    );
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    const { connectionString, port } = await started;
    return { child, connectionString, port, output: () => output, exited };
  } finally {
    clearTimeout(timeout);
  }
}
