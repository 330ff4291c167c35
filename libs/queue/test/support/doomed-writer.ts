import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { DoomedWriter } from '../conformance/harness.ts';

const script = fileURLToPath(new URL('../fixtures/doomed-writer.ts', import.meta.url));

/**
 * Runs the doomed-writer fixture (on the transport `env.TRANSPORT` names,
 * configured by `env`) as a child process: it prints the batch it holds as one JSON line, then holds
 * it until {@link DoomedWriter.kill} SIGKILLs it.
 */
export function spawnDoomedWriter(env: Record<string, string>): DoomedWriter {
  const child: ChildProcess = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const holding = new Promise<{ id: string; failedAttempts: number }>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line) resolve(JSON.parse(line));
    });
    child.on('exit', (code, signal) =>
      reject(new Error(`doomed writer exited early (${code ?? signal}): ${stderr}`)),
    );
  });
  return {
    holding,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
