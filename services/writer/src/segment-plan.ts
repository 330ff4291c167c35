import { wouldOverflow, type RollLimits } from './rolling-file-set.ts';
import type { TrackedFile } from './tracked-file.ts';

/** One line to write: where it goes and what it is. */
export interface PlannedLine {
  readonly dir: string;
  readonly key: string;
  readonly line: string;
  /** The change event's `ns` (for metrics per namespace). */
  readonly ns?: unknown;
}

/** Consecutive lines for one file, appended in one request. */
export interface Segment {
  readonly dir: string;
  /** The open file the lines go to, or `undefined` for a new file named after `firstKey`. */
  readonly file: TrackedFile | undefined;
  readonly firstKey: string;
  readonly lines: string[];
  readonly keys: string[];
  readonly byteLengths: number[];
  bytes: number;
}

/**
 * Groups a batch's lines by target file, in change order: each directory's
 * lines go to its open file while it has room, then to new files, each
 * filled up to `maxFileBytes` (a line longer than that gets a file of its
 * own). Pure: what exists is asked of `openIn`, and nothing is changed.
 */
export function planSegments(
  lines: readonly PlannedLine[],
  openIn: (dir: string) => TrackedFile | undefined,
  limits: RollLimits,
): Segment[] {
  const segments: Segment[] = [];
  const current = new Map<string, Segment>();
  for (const { dir, key, line } of lines) {
    const bytes = Buffer.byteLength(line);
    let segment = current.get(dir);
    if (segment === undefined) {
      const open = openIn(dir);
      const usable = open && !open.finished && !wouldOverflow(open.length, bytes, limits);
      segment = newSegment(dir, usable ? open : undefined, key);
      segments.push(segment);
      current.set(dir, segment);
    } else if (wouldOverflow((segment.file?.length ?? 0) + segment.bytes, bytes, limits)) {
      segment = newSegment(dir, undefined, key);
      segments.push(segment);
      current.set(dir, segment);
    }
    segment.lines.push(line);
    segment.keys.push(key);
    segment.byteLengths.push(bytes);
    segment.bytes += bytes;
  }
  return segments;
}

function newSegment(dir: string, file: TrackedFile | undefined, firstKey: string): Segment {
  return { dir, file, firstKey, lines: [], keys: [], byteLengths: [], bytes: 0 };
}
