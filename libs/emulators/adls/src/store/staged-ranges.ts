/**
 * Uncommitted ("staged") data of one file, as a sorted list of byte ranges
 * that appends have written beyond the committed length.
 *
 * The service lets appends arrive in any order at or beyond the committed
 * length (the SDK's parallel `upload()` relies on it) and commits on flush only
 * when the staged data covers `[committedLength, position)` without a gap.
 * These helpers are pure so the rules can be table-tested.
 */

/** A half-open byte range `[start, end)`. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Returns `ranges` with `[start, end)` added, merged and sorted. */
export function addRange(ranges: readonly ByteRange[], start: number, end: number): ByteRange[] {
  const result: ByteRange[] = [];
  let merged: ByteRange = { start, end };
  let placed = false;
  for (const range of ranges) {
    if (range.end < merged.start) {
      result.push(range);
    } else if (range.start > merged.end) {
      if (!placed) {
        result.push(merged);
        placed = true;
      }
      result.push(range);
    } else {
      merged = { start: Math.min(range.start, merged.start), end: Math.max(range.end, merged.end) };
    }
  }
  if (!placed) result.push(merged);
  return result.sort((a, b) => a.start - b.start);
}

/** Returns `ranges` with every byte of `[start, end)` removed. */
export function removeRange(ranges: readonly ByteRange[], start: number, end: number): ByteRange[] {
  const result: ByteRange[] = [];
  for (const range of ranges) {
    if (range.end <= start || range.start >= end) {
      result.push(range);
      continue;
    }
    if (range.start < start) result.push({ start: range.start, end: start });
    if (range.end > end) result.push({ start: end, end: range.end });
  }
  return result;
}

/** True when some range shares at least one byte with `[start, end)`. */
export function overlaps(ranges: readonly ByteRange[], start: number, end: number): boolean {
  return ranges.some((range) => range.start < end && range.end > start);
}

/** True when `ranges` cover every byte of `[start, end)` (an empty span is covered). */
export function covers(ranges: readonly ByteRange[], start: number, end: number): boolean {
  if (end <= start) return true;
  let cursor = start;
  for (const range of ranges) {
    if (range.start > cursor) break;
    if (range.end > cursor) cursor = range.end;
    if (cursor >= end) return true;
  }
  return cursor >= end;
}

/** Total number of staged bytes. */
export function stagedBytes(ranges: readonly ByteRange[]): number {
  return ranges.reduce((sum, range) => sum + (range.end - range.start), 0);
}
