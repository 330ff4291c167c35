import type { TailLine } from './tracked-file.ts';

/** How every line this writer produces ends: `…,"_tributary":{"key":"<key>",…}}`. */
const MARKER = '"_tributary":{"key":"';
const KEY_LENGTH = '0000000000-0000000000-0000000000'.length;
const NEWLINE = 0x0a;

/**
 * The ordering key of each complete JSONL line in `bytes`, with the byte
 * offset (from `base`, where `bytes` starts in the file) just after its
 * newline. The `_tributary` object is the last field of each line, so the
 * last marker on a line is ours even when a user's document has a field of
 * the same name.
 */
export function linesWithKeys(bytes: Uint8Array, base = 0): TailLine[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lines: TailLine[] = [];
  let start = 0;
  while (start < buffer.length) {
    const newline = buffer.indexOf(NEWLINE, start);
    if (newline < 0) break; // never happens for data this writer committed: appends end lines
    const line = buffer.toString('utf8', start, newline);
    const at = line.lastIndexOf(MARKER);
    if (at >= 0)
      lines.push({
        key: line.slice(at + MARKER.length, at + MARKER.length + KEY_LENGTH),
        end: base + newline + 1,
      });
    start = newline + 1;
  }
  return lines;
}

/** The ordering key of one line this writer produced (see {@link linesWithKeys}), if it has one. */
export function keyOfLine(line: string): string | undefined {
  const at = line.lastIndexOf(MARKER);
  return at < 0 ? undefined : line.slice(at + MARKER.length, at + MARKER.length + KEY_LENGTH);
}
