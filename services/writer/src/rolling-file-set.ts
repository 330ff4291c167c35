import { eventTimeOfKey } from '@tributary/core';
import type { TrackedFile } from './tracked-file.ts';

/** Limits that make a file roll. */
export interface RollLimits {
  readonly maxFileBytes: number;
  readonly maxFileAgeMs: number;
  readonly idleCloseMs: number;
}

/** Why an open file should be closed now, or `undefined` to keep it. */
export function closeReason(
  file: TrackedFile,
  now: number,
  limits: RollLimits,
): 'age' | 'idle' | 'size' | undefined {
  if (now - file.openedAt.getTime() >= limits.maxFileAgeMs) return 'age';
  if (now - file.lastAppendAt >= limits.idleCloseMs) return 'idle';
  if (file.length >= limits.maxFileBytes) return 'size';
  return undefined;
}

/**
 * Whether `bytes` more would push a file holding `length` bytes past the
 * size limit. An empty file always takes the line, so a line longer than the
 * limit still lands (in a file of its own) instead of looping forever.
 */
export function wouldOverflow(length: number, bytes: number, limits: RollLimits): boolean {
  return length > 0 && length + bytes > limits.maxFileBytes;
}

function hourOf(ms: number): number {
  return Math.floor(ms / 3_600_000);
}

/**
 * The data files of one partition: per event-time directory the one being
 * appended to, and every file a checkpoint must still list — open ones, and
 * finished ones until their closing flush is done and a checkpoint covers
 * their last line.
 */
export class RollingFileSet {
  readonly #limits: RollLimits;
  /** The file each directory appends to now. */
  readonly #open = new Map<string, TrackedFile>();
  readonly #tracked = new Set<TrackedFile>();
  /** Newest event hour written, for finishing files of past hours. */
  #latestHour = 0;

  constructor(limits: RollLimits) {
    this.#limits = limits;
  }

  get limits(): RollLimits {
    return this.#limits;
  }

  /** Every tracked file. */
  tracked(): TrackedFile[] {
    return [...this.#tracked];
  }

  /** The file `dir` appends to now, if any. */
  openIn(dir: string): TrackedFile | undefined {
    return this.#open.get(dir);
  }

  /** Paths of the files open now. */
  openPaths(): string[] {
    return [...this.#open.values()].map((file) => file.path);
  }

  /** Tracks a finished file (found on takeover): listed until closed and covered, never appended. */
  addFinished(file: TrackedFile): void {
    file.finished = true;
    this.#tracked.add(file);
  }

  /**
   * Tracks a file that exists under this writer's lease but is not appended
   * to yet (a new file of a batch in progress): checkpoints list it, and the
   * batch's next attempt finds it again by its path.
   */
  track(file: TrackedFile): void {
    this.#tracked.add(file);
  }

  /** The tracked file at `path`, if any. */
  byPath(path: string): TrackedFile | undefined {
    for (const file of this.#tracked) if (file.path === path) return file;
    return undefined;
  }

  /**
   * Tracked files that were created for a batch but never appended to nor
   * opened (a later attempt planned the batch differently): empty, to be
   * finished so they are closed and forgotten.
   */
  strays(): TrackedFile[] {
    return [...this.#tracked].filter((file) => !file.finished && this.#open.get(file.dir) !== file);
  }

  /**
   * Makes `file` the one its directory appends to — once its first lines are
   * in — and finishes the file it replaces (it rolled away).
   */
  open(file: TrackedFile): void {
    const previous = this.#open.get(file.dir);
    if (previous && previous !== file) this.finish(previous);
    this.#open.set(file.dir, file);
    this.#tracked.add(file);
  }

  /** No more appends to `file`; the next checkpoint lists it as closed. */
  finish(file: TrackedFile): void {
    file.finished = true;
    if (this.#open.get(file.dir) === file) this.#open.delete(file.dir);
  }

  /** Stops tracking a file (it never came to exist, or it is closed and covered). */
  forget(file: TrackedFile): void {
    this.#tracked.delete(file);
    if (this.#open.get(file.dir) === file) this.#open.delete(file.dir);
  }

  /** Notes the event time of a line written, for finishing files of past hours. */
  noteEventTime(ms: number): void {
    this.#latestHour = Math.max(this.#latestHour, hourOf(ms));
  }

  /**
   * Open files to finish now: idle, too old or full, or holding an hour
   * before the newest one written — unless the batch just written appended
   * to it (`appended`): a batch may straddle the hour.
   */
  due(now: number, appended: ReadonlySet<TrackedFile> = new Set()): TrackedFile[] {
    return [...this.#open.values()].filter(
      (file) =>
        closeReason(file, now, this.#limits) !== undefined ||
        (!appended.has(file) &&
          file.length > 0 &&
          hourOf(eventTimeOfKey(file.firstKey).getTime()) < this.#latestHour),
    );
  }

  /** Finished files whose closing flush may go ahead now (a checkpoint says they are closed). */
  readyToClose(): TrackedFile[] {
    return [...this.#tracked].filter((f) => f.finished && f.closeRecorded && !f.closedInLake);
  }
}
