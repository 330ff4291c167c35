import type { Lake } from '../lake.ts';

/** One line of a data file as read back. */
export interface CommittedLine {
  /** 1-based line number in the file. */
  readonly number: number;
  /** The line without its newline. */
  readonly text: string;
  /**
   * No newline ends it: the last bytes of the file, which a writer may still
   * be completing (or, in a finished file, a damaged end).
   */
  readonly torn: boolean;
}

/** How much of a file is read at once: large files are never held whole. */
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * The committed lines of `path` up to `length` bytes (its committed length
 * when listed), read in ranges of `chunkBytes`. Lines are split on the
 * newline byte before decoding: in UTF-8 that byte never occurs inside a
 * character, so a chunk boundary never splits one.
 */
export async function* committedLines(
  lake: Lake,
  path: string,
  length: number,
  chunkBytes = DEFAULT_CHUNK_BYTES,
): AsyncIterable<CommittedLine> {
  let carry: Buffer[] = [];
  let number = 0;
  let offset = 0;
  while (offset < length) {
    const bytes = await lake.read(path, offset, Math.min(chunkBytes, length - offset));
    if (bytes.byteLength === 0) break; // shorter than listed: what is there has been read
    offset += bytes.byteLength;
    const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE, start); end >= 0; end = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, end);
      const text =
        carry.length === 0
          ? piece.toString('utf8')
          : Buffer.concat([...carry, piece]).toString('utf8');
      carry = [];
      number += 1;
      yield { number, text, torn: false };
      start = end + 1;
    }
    // Copied: the lake may reuse the buffer it returned.
    if (start < chunk.length) carry.push(Buffer.from(chunk.subarray(start)));
  }
  if (carry.length > 0) {
    number += 1;
    yield { number, text: Buffer.concat(carry).toString('utf8'), torn: true };
  }
}
