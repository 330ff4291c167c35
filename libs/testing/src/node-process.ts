import { type ChildProcess, spawn } from 'node:child_process';

/**
 * A TypeScript entry point running in a real Node process, watched while it
 * runs: what it printed, whether it still runs, and a way to stop it.
 */
export class NodeProcess {
  readonly #child: ChildProcess;
  readonly #output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    const keep = (chunk: Buffer) => this.#output.push(chunk.toString('utf8'));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Starts `script` with exactly `env` (plus PATH). */
  static start(script: string, env: Record<string, string>): NodeProcess {
    const child = spawn(process.execPath, [script], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new NodeProcess(child);
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Everything it printed so far, stdout and stderr. */
  output(): string {
    return this.#output.join('');
  }

  /** Resolves once its output matches `pattern`; rejects if it exits first or after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    const started = Date.now();
    while (!pattern.test(this.output())) {
      if (!this.running)
        throw new Error(`exited before printing ${pattern}:\n${this.output().slice(-3000)}`);
      if (Date.now() - started > timeoutMs)
        throw new Error(
          `did not print ${pattern} within ${timeoutMs} ms:\n${this.output().slice(-3000)}`,
        );
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Sends `signal` (SIGKILL after 10 s) and waits for the exit; idempotent. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.running) {
      this.#child.kill(signal);
      const hard = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(hard);
    }
  }
}
