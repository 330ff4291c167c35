import { calculateObjectSize, type Document, type Long } from 'bson';
import {
  MAX_INTERNAL_DOCUMENT_BYTES,
  MAX_USER_DOCUMENT_BYTES,
  objectTooLarge,
} from '../storage/document-size-limits.ts';
import { arrayIndexKey } from '../wire/bson-writer.ts';
import type { EncodedDocuments } from '../wire/encoded-documents.ts';

/** The real server's reply size cap for one batch (16 MiB, its `maxBsonObjectSize`). */
export const MAX_BATCH_BYTES = MAX_USER_DOCUMENT_BYTES;

/** What one `getMore` returns. */
export interface CursorBatch {
  /** The batch; change streams hand it over already encoded. */
  documents: Document[] | EncodedDocuments;
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
  /** Time of the last use (creation, every getMore), for the idle-cursor reaper. */
  lastUsed: number;
  /** True while a getMore is running (a second concurrent getMore is refused). */
  busy: boolean;
  /** `noCursorTimeout`: the idle-cursor reaper leaves it open. */
  readonly noTimeout?: boolean;
  next(options: GetMoreOptions): Promise<CursorBatch>;
  close(): void;
}

/**
 * Takes documents from `source` starting at `start` while the count and the
 * 16 MiB budget allow (counting each element's array key and type byte, so
 * the encoded batch stays within the budget too); the first document always
 * goes, alone if need be. A document the server could not have built (an
 * aggregation result over 16 MiB + 16 KiB) is BSONObjectTooLarge, as there.
 */
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
    const size = calculateObjectSize(doc);
    if (size > MAX_INTERNAL_DOCUMENT_BYTES) throw objectTooLarge(size, describeFirstElement(doc));
    bytes += size + 2 + arrayIndexKey(out.length).length;
    if (bytes > MAX_BATCH_BYTES && out.length > 0) break;
    out.push(doc);
  }
  return out;
}

/** The server's "First element: …" of a size error, briefly. */
function describeFirstElement(doc: Document): string {
  const [key] = Object.keys(doc);
  return key === undefined ? 'EOO' : `${key}: ...`;
}

/** A cursor over a result computed up front (find, aggregate, listCollections). */
export class ArrayCursor implements ServerCursor {
  readonly id: Long;
  readonly ns: string;
  readonly isChangeStream = false;
  lastUsed = Date.now();
  busy = false;
  readonly noTimeout: boolean;
  #docs: Document[];
  #position: number;

  constructor(id: Long, ns: string, docs: Document[], position: number, noTimeout = false) {
    this.id = id;
    this.ns = ns;
    this.#docs = docs;
    this.#position = position;
    this.noTimeout = noTimeout;
  }

  async next(options: GetMoreOptions): Promise<CursorBatch> {
    this.lastUsed = Date.now();
    const documents = takeBatch(this.#docs, this.#position, options.batchSize);
    this.#position += documents.length;
    return { documents, exhausted: this.#position >= this.#docs.length };
  }

  close(): void {
    this.#docs = [];
  }
}
