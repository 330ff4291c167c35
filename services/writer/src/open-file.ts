import type { OpenFileRecord } from '@tributary/checkpoint';

/** A file a partition is appending to, with its committed state. */
export interface OpenFile {
  readonly path: string;
  /** Directory the file lives in: the event-time path it serves. */
  readonly dir: string;
  readonly firstKey: string;
  length: number;
  version: string;
  readonly openedAt: Date;
  /** Last time anything was appended, for idle closing (process-local). */
  lastAppendAt: number;
  /** Recorded in a stored checkpoint already (so a new owner would look at it). */
  recorded: boolean;
}

/** The file name for partition `p` starting at `firstKey`: sorting names sorts files by content. */
export function fileNameFor(partition: number, firstKey: string): string {
  return `part-${String(partition).padStart(4, '0')}-${firstKey}.jsonl`;
}

/** The checkpoint's record of an open file. */
export function toRecord(file: OpenFile): OpenFileRecord {
  return {
    path: file.path,
    firstKey: file.firstKey,
    length: file.length,
    version: file.version,
    openedAt: file.openedAt,
  };
}

/** The directory part of a lake path. */
export function dirOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
