import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type CheckpointStore, PRESENCE_INTERVAL_MS } from '@tributary/checkpoint';
import type { Logger } from '@tributary/core';
import type { DependencyWaiter } from '@tributary/telemetry';

/** A capture's id for its presence record: host, process and a suffix of its own. */
export function newCaptureId(): string {
  return `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

/**
 * Capture's sign of life in the checkpoint store: written before capture
 * reads its resume point, refreshed every `intervalMs`, and removed when it
 * stops — so that `tributary resume-point set` refuses to move the resume
 * point under a running capture (which would not see the move, or would
 * see it half-way).
 */
export class CapturePresence {
  readonly #checkpoints: CheckpointStore;
  readonly #logger: Logger;
  readonly #captureId: string;
  readonly #intervalMs: number;
  #startedAt: Date | undefined;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #refreshing = false;
  #stopped = false;

  constructor(
    checkpoints: CheckpointStore,
    logger: Logger,
    options: { readonly captureId: string; readonly intervalMs?: number },
  ) {
    this.#checkpoints = checkpoints;
    this.#logger = logger;
    this.#captureId = options.captureId;
    this.#intervalMs = options.intervalMs ?? PRESENCE_INTERVAL_MS;
  }

  get captureId(): string {
    return this.#captureId;
  }

  /** Reports the first time (waiting out the store through `deps`), then on a timer. */
  async start(deps: DependencyWaiter): Promise<void> {
    this.#startedAt = new Date();
    await deps.untilDone('checkpoint store', () => this.#write());
    if (this.#stopped) return;
    this.#timer = setInterval(() => this.#refresh(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops reporting and removes the record, if it is still this capture's. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    // A refresh in flight would write the record again after its removal.
    await this.#writing;
    if (!this.#startedAt) return;
    try {
      await this.#checkpoints.clearPresence(this.#captureId);
    } catch (error) {
      this.#logger.warn(
        { err: error },
        'could not remove capture’s presence record: `tributary resume-point set` refuses until it is stale',
      );
    }
  }

  #refresh(): void {
    // One write at a time: a slow store must not pile up writes.
    if (this.#refreshing || this.#stopped) return;
    this.#refreshing = true;
    this.#writing = this.#write()
      .catch((error: unknown) =>
        this.#logger.warn(
          { err: error },
          'could not refresh capture’s presence record; tried again on the next interval',
        ),
      )
      .finally(() => (this.#refreshing = false));
  }

  #write(): Promise<void> {
    const now = new Date();
    return this.#checkpoints.writePresence({
      captureId: this.#captureId,
      startedAt: this.#startedAt ?? now,
      reportedAt: now,
    });
  }
}
