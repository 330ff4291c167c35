import { Long } from 'bson';
import { randomBytes } from 'node:crypto';
import type { ServerCursor } from './server-cursor.ts';

/** Idle cursors are closed after this long by default: the server's cursorTimeoutMillis default. */
export const DEFAULT_CURSOR_TIMEOUT_MS = 10 * 60 * 1000;

/** Open cursors by id; cursors idle longer than the timeout are closed, as the server does. */
export class CursorRegistry {
  readonly #cursors = new Map<string, ServerCursor>();
  readonly #reaper: NodeJS.Timeout;
  readonly #timeoutMs: number;

  constructor(timeoutMs = DEFAULT_CURSOR_TIMEOUT_MS) {
    this.#timeoutMs = timeoutMs;
    // Checking a quarter of the timeout apart bounds how long past its timeout a cursor lives.
    const period = Math.min(60_000, Math.max(10, Math.floor(timeoutMs / 4)));
    this.#reaper = setInterval(() => this.#reapIdle(), period);
    // The reaper must never keep a test process or the CLI alive on its own.
    this.#reaper.unref();
  }

  /** A fresh random positive 63-bit cursor id. */
  newId(): Long {
    const bytes = randomBytes(8);
    bytes[7] = (bytes[7] as number) & 0x7f;
    const id = Long.fromBytesLE([...bytes]);
    return id.isZero() ? Long.ONE : id;
  }

  add(cursor: ServerCursor): void {
    this.#cursors.set(cursor.id.toString(), cursor);
  }

  get(id: Long | number | bigint): ServerCursor | undefined {
    return this.#cursors.get(id.toString());
  }

  /** Closes and forgets a cursor; returns false if it did not exist. */
  kill(id: Long | number | bigint): boolean {
    const cursor = this.#cursors.get(id.toString());
    if (!cursor) return false;
    this.#cursors.delete(id.toString());
    cursor.close();
    return true;
  }

  /** Number of open cursors (tests use it to prove nothing leaks). */
  get size(): number {
    return this.#cursors.size;
  }

  #reapIdle(): void {
    const cutoff = Date.now() - this.#timeoutMs;
    for (const cursor of [...this.#cursors.values()]) {
      if (!cursor.busy && !cursor.noTimeout && cursor.lastUsed < cutoff) this.kill(cursor.id);
    }
  }

  /** Closes every cursor and stops the reaper. */
  closeAll(): void {
    clearInterval(this.#reaper);
    for (const cursor of [...this.#cursors.values()]) this.kill(cursor.id);
  }
}
