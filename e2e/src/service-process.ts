import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = {
  capture: fileURLToPath(new URL('../../services/capture/src/main.ts', import.meta.url)),
  writer: fileURLToPath(new URL('../../services/writer/src/main.ts', import.meta.url)),
};

/** How a service process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * A capture or writer running as a real Node process, as in production:
 * configured only through its environment, stopped by signals.
 */
export class ServiceProcess {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #output: string[] = [];
  readonly exited: Promise<Exit>;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#child = child;
    const keep = (chunk: Buffer) => {
      this.#output.push(chunk.toString('utf8'));
      if (this.#output.length > 2000) this.#output.splice(0, 1000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Starts `service` with exactly `env` (plus PATH). */
  static start(
    service: 'capture' | 'writer',
    name: string,
    env: Record<string, string>,
  ): ServiceProcess {
    const child = spawn(process.execPath, [ENTRY[service]], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServiceProcess(name, child);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** What the process printed (its JSON log lines), for diagnosis. */
  output(): string {
    return this.#output.join('');
  }

  /** Sends a signal and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (this.running) this.#child.kill(signal);
    return this.exited;
  }

  /** SIGKILL: no chance to flush, checkpoint or acknowledge anything. */
  kill(): Promise<Exit> {
    return this.stop('SIGKILL');
  }

  /** Resolves once a log line matches `pattern`, or rejects after `timeoutMs`. */
  async waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    const started = Date.now();
    while (!pattern.test(this.output())) {
      if (!this.running)
        throw new Error(
          `${this.name} exited before logging ${pattern}:\n${this.output().slice(-4000)}`,
        );
      if (Date.now() - started > timeoutMs)
        throw new Error(
          `${this.name} did not log ${pattern} within ${timeoutMs} ms:\n${this.output().slice(-4000)}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
