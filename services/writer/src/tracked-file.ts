import type { SpanContext } from '@opentelemetry/api';
import type { OpenFileRecord } from '@tributary/checkpoint';

/** One line past a file's checkpointed length: its ordering key and where it ends. */
export interface TailLine {
  readonly key: string;
  /** Byte offset just after the line's newline. */
  readonly end: number;
}

/**
 * A data file of the partition that this writer appends to, or finished and
 * has not yet seen a checkpoint cover fully. Every such file exists in the
 * lake under this writer's write lease.
 */
export interface TrackedFile {
  readonly path: string;
  /** Directory the file lives in: the event-time path it serves. */
  readonly dir: string;
  readonly firstKey: string;
  /** Committed length in the lake: where the next append goes. */
  length: number;
  version: string;
  readonly openedAt: Date;
  /** Last time anything was appended, for idle closing (process-local). */
  lastAppendAt: number;
  /** Listed in a stored checkpoint (so a new owner would look at it). */
  recorded: boolean;
  /**
   * How much of the file the stored checkpoint covers: every line before it
   * has a key at or below the checkpoint's position. What lies beyond was
   * written after, and a new owner must read it to know what not to repeat.
   */
  checkpointedLength: number;
  /** The lines between `checkpointedLength` and `length`, in the order they were written. */
  readonly tail: TailLine[];
  /**
   * Nothing more is appended: checkpoints list the file as closed from now
   * on, and the closing flush follows a checkpoint that says so.
   */
  finished: boolean;
  /** A stored checkpoint lists the file as closed: its closing flush may go ahead. */
  closeRecorded: boolean;
  /** The closing flush is done and the write lease released. */
  closedInLake: boolean;
  /** Traces of the batches appended to it (a few), which its closing flush links to. */
  traces?: SpanContext[];
}

/** A new file of `dir` starting at `firstKey`, not yet in the lake. */
export function newTrackedFile(
  partition: number,
  dir: string,
  firstKey: string,
  now: number,
): TrackedFile {
  return {
    path: `${dir}/${fileNameFor(partition, firstKey)}`,
    dir,
    firstKey,
    length: 0,
    version: '',
    openedAt: new Date(now),
    lastAppendAt: now,
    recorded: false,
    checkpointedLength: 0,
    tail: [],
    finished: false,
    closeRecorded: false,
    closedInLake: false,
  };
}

/** The file name for partition `p` starting at `firstKey`: sorting names sorts files by content. */
export function fileNameFor(partition: number, firstKey: string): string {
  return `part-${String(partition).padStart(4, '0')}-${firstKey}.jsonl`;
}

/**
 * How far a checkpoint at `key` covers `file`: past every tail line whose key
 * is at or below it. Lines of a file are in change order, so the covered
 * part is a prefix; should they ever not be, stopping at the first later key
 * only makes the covered length shorter, which is safe (a new owner reads a
 * little more than it must).
 */
export function coverage(file: TrackedFile, key: string): { length: number; lines: number } {
  let length = file.checkpointedLength;
  let lines = 0;
  for (const line of file.tail) {
    if (line.key > key) break;
    length = line.end;
    lines += 1;
  }
  return { length, lines };
}

/** The checkpoint's record of a file, covering `length` of it. */
export function toRecord(file: TrackedFile, length: number): OpenFileRecord {
  return {
    path: file.path,
    firstKey: file.firstKey,
    length,
    version: file.version,
    openedAt: file.openedAt,
    ...(file.finished ? { closed: true } : {}),
  };
}

/** The directory part of a lake path. */
export function dirOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
