import { calculateObjectSize, type Document, type Long } from 'bson';

/** The real server's reply size cap for one batch (16 MB). */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024;

/** What one `getMore` returns. */
export interface CursorBatch {
  documents: Document[];
  /** True when the cursor is exhausted (or invalidated) and was closed. */
  exhausted: boolean;
  /** Change streams only: the resume token that covers this batch. */
  postBatchResumeToken?: Document;
}

/** Options of one getMore. */
export interface GetMoreOptions {
  batchSize?: number;
  maxTimeMS?: number;
  /** Aborted when the client disconnects or the node steps down. */
  signal: AbortSignal;
}

/** A server-side cursor the client pages through with getMore. */
export interface ServerCursor {
  readonly id: Long;
  /** `db.coll` the cursor belongs to (getMore must name the same collection). */
  readonly ns: string;
  readonly isChangeStream: boolean;
  /** Time of the last use, for the idle-cursor reaper. */
  lastUsed: number;
  /** True while a getMore is running (a second concurrent getMore is refused). */
  busy: boolean;
  next(options: GetMoreOptions): Promise<CursorBatch>;
  close(): void;
}

/** Takes documents from `source` starting at `start` while count and 16 MB budget allow. */
export function takeBatch(
  source: Document[],
  start: number,
  batchSize: number | undefined,
): Document[] {
  const limit = batchSize && batchSize > 0 ? batchSize : Infinity;
  const out: Document[] = [];
  let bytes = 0;
  for (let i = start; i < source.length && out.length < limit; i++) {
    const doc = source[i] as Document;
    bytes += calculateObjectSize(doc);
    if (bytes > MAX_BATCH_BYTES && out.length > 0) break;
    out.push(doc);
  }
  return out;
}

/** A cursor over a result computed up front (find, aggregate, listCollections). */
export class ArrayCursor implements ServerCursor {
  readonly id: Long;
  readonly ns: string;
  readonly isChangeStream = false;
  lastUsed = Date.now();
  busy = false;
  #docs: Document[];
  #position: number;

  constructor(id: Long, ns: string, docs: Document[], position: number) {
    this.id = id;
    this.ns = ns;
    this.#docs = docs;
    this.#position = position;
  }

  async next(options: GetMoreOptions): Promise<CursorBatch> {
    const documents = takeBatch(this.#docs, this.#position, options.batchSize);
    this.#position += documents.length;
    return { documents, exhausted: this.#position >= this.#docs.length };
  }

  close(): void {
    this.#docs = [];
  }
}
