import type { FileHandle } from 'node:fs/promises';
import { frame, openJournalFile } from './journal-file.ts';

/** Marks, in the queue, where records start going to the next generation's file. */
const ROTATE = Symbol('rotate');

interface Barrier {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function barrier(): Barrier {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A barrier nobody waits on must not surface as an unhandled rejection;
  // its waiters (replies) get the error through their own handlers.
  promise.catch(ignoreUnobservedFailure);
  return { promise, resolve, reject };
}

/** The failure is reported to every waiter; this only keeps an unobserved one from crashing Node. */
function ignoreUnobservedFailure(): void {}

/**
 * The write-ahead log with group commit. Records are queued as changes
 * happen; the queue is written and fdatasync'ed in one go once the current
 * tick is done, and again — with everything queued meanwhile — as soon as
 * the previous sync returns. So a burst of writes from many clients shares
 * one sync, and a reply waits at most for the sync in flight plus its own.
 * A failed write or sync breaks the journal for good: nothing after it is
 * ever reported durable (the server stops, too, when its journal fails).
 */
export class JournalWriter {
  readonly #dir: string;
  /** Generation new records go to. */
  #generation: number;
  /** Generation of the open file (behind `#generation` until a rotation is written). */
  #fileGeneration: number;
  #file: FileHandle | undefined;
  #queue: Array<Buffer | typeof ROTATE> = [];
  /** Settles when the queued records are durable. */
  #queued: Barrier | undefined;
  /** Settles when the batch being written is durable. */
  #inFlight: Promise<void> | undefined;
  #running: Promise<void> | undefined;
  #failure: unknown;

  constructor(dir: string, generation: number) {
    this.#dir = dir;
    this.#generation = generation;
    this.#fileGeneration = generation;
  }

  /** Queues one record; it is durable once {@link whenDurable} (called after it) settles. */
  append(payload: Uint8Array): void {
    this.#queue.push(...frame(payload));
    this.#start();
  }

  /**
   * Sends later records to a new file and returns its generation. A
   * checkpoint taken in the same tick holds everything before it, so the
   * older files can go once the checkpoint is durable.
   */
  rotate(): number {
    this.#generation += 1;
    this.#queue.push(ROTATE);
    this.#start();
    return this.#generation;
  }

  /** Settles when every record appended so far is on disk; undefined when all already are. */
  whenDurable(): Promise<void> | undefined {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#queue.length > 0) return (this.#queued ??= barrier()).promise;
    return this.#inFlight;
  }

  /** Waits for the queue to be written and closes the file. */
  async close(): Promise<void> {
    await this.#running;
    await this.#file?.close();
    this.#file = undefined;
  }

  #start(): void {
    // setImmediate, not a microtask: the writes of every connection served in this tick join the batch.
    this.#running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.#drain(),
    );
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      const done = this.#queued ?? barrier();
      this.#queue = [];
      this.#queued = undefined;
      this.#inFlight = done.promise;
      try {
        if (this.#failure !== undefined) throw this.#failure;
        await this.#write(batch);
        done.resolve();
      } catch (error) {
        this.#failure ??= error;
        console.error(
          '[emulator-mongodb] the journal failed; no later write is acknowledged:',
          error,
        );
        done.reject(this.#failure);
      }
    }
    this.#inFlight = undefined;
    this.#running = undefined;
  }

  async #write(batch: Array<Buffer | typeof ROTATE>): Promise<void> {
    let chunk: Buffer[] = [];
    for (const item of batch) {
      if (item !== ROTATE) {
        chunk.push(item);
        continue;
      }
      await this.#sync(chunk);
      chunk = [];
      await this.#file?.close();
      this.#file = undefined;
      this.#fileGeneration += 1;
    }
    await this.#sync(chunk);
  }

  async #sync(chunk: Buffer[]): Promise<void> {
    if (chunk.length === 0) return;
    this.#file ??= await openJournalFile(this.#dir, this.#fileGeneration);
    const bytes = Buffer.concat(chunk);
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await this.#file.write(bytes, written);
      written += bytesWritten;
    }
    await this.#file.datasync();
  }
}
