/** Size of a pooled output chunk. */
export const CHUNK_BYTES = 64 * 1024;

/** Idle chunks kept for reuse (8 MiB): enough for the replies of a few connections in flight. */
const MAX_IDLE_CHUNKS = 128;

/**
 * Output buffers that are used again once the socket has written them.
 * Encoding into freshly allocated memory costs a page fault on the first
 * write to every 4 KiB page, which profiled as about half of the cost of
 * encoding change events; reused chunks are already mapped (and often in
 * cache). A chunk goes back only after the write that carried it completed
 * (see WireConnection), so nothing still queued is ever overwritten.
 */
export class ChunkPool {
  readonly #idle: Buffer[] = [];

  /** A chunk of {@link CHUNK_BYTES}. */
  acquire(): Buffer {
    return this.#idle.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
  }

  /** Returns chunks that no queued write refers to any more. */
  release(chunks: readonly Buffer[]): void {
    for (const chunk of chunks) {
      if (this.#idle.length >= MAX_IDLE_CHUNKS) return;
      this.#idle.push(chunk);
    }
  }

  /** Number of idle chunks (for tests). */
  get idle(): number {
    return this.#idle.length;
  }
}

/** The pool every reply encoder draws from. */
export const replyChunks = new ChunkPool();
