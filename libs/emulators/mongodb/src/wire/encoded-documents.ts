/**
 * A list of documents already encoded as one BSON array (keys "0", "1", …),
 * such as a change-stream batch that was encoded while it was read. A reply
 * carries it where an array of documents would go; the reply encoder splices
 * the bytes in as they are, so each document is encoded exactly once.
 */
export class EncodedDocuments {
  /** The array's bytes, possibly in several pieces: length prefix, elements, terminating zero. */
  readonly parts: readonly Buffer[];
  /** Total bytes of `parts`. */
  readonly byteLength: number;
  /** Number of documents in the array. */
  readonly length: number;
  /** Pooled chunks `parts` live in, handed on to the reply that carries them (chunk-pool.ts). */
  readonly pooled: readonly Buffer[];

  constructor(
    parts: readonly Buffer[],
    byteLength: number,
    length: number,
    pooled: readonly Buffer[] = [],
  ) {
    this.parts = parts;
    this.byteLength = byteLength;
    this.length = length;
    this.pooled = pooled;
  }
}
