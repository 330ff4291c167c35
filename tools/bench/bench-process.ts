import { spawn } from 'node:child_process';

/** How a benchmark process ended, and what it printed on stdout. */
export interface BenchOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
}

/** Time a benchmark gets between SIGTERM (its clean-up) and SIGKILL. */
const CLEAN_UP_GRACE_MS = 20_000;

/**
 * Runs a TypeScript benchmark in its own Node process (this runtime), passing
 * its output through as it comes, so progress shows live, and keeping stdout
 * for the summary. After `timeoutMs` it gets SIGTERM, so it can stop what it
 * started, then SIGKILL.
 */
export function runBench(
  script: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<BenchOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    let killTimer: NodeJS.Timeout | undefined;
    const termTimer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), CLEAN_UP_GRACE_MS);
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(termTimer);
      clearTimeout(killTimer);
      resolve({ code, signal, timedOut, stdout });
    });
  });
}
