import { calculateObjectSize, type Binary, type Document, type Timestamp } from 'bson';
import { compareTimestamps, tokenData } from './resume-token.ts';

/** Operation kinds recorded in the oplog, named as change events name them. */
export type OplogOperation =
  | 'insert'
  | 'update'
  | 'replace'
  | 'delete'
  | 'drop'
  | 'rename'
  | 'dropDatabase'
  | 'create'
  | 'createIndexes'
  | 'dropIndexes'
  | 'modify';

/**
 * Operations whose events a change stream reports only with
 * `showExpandedEvents` (the server's DDL events of 6.0+); the oplog holds
 * them either way, as the server's does.
 */
export const EXPANDED_ONLY_OPERATIONS: ReadonlySet<OplogOperation> = new Set([
  'create',
  'createIndexes',
  'dropIndexes',
  'modify',
]);

/** What a change event says about an update. */
export interface UpdateDescription {
  updatedFields: Document;
  removedFields: string[];
  truncatedArrays: Array<{ field: string; newSize: number }>;
}

/**
 * One oplog entry: one change, already in the shape change events need.
 * Entries are immutable once appended.
 */
export interface OplogEntry {
  /** Absolute position in the oplog, never reused. */
  readonly seq: number;
  /** Cluster time of the write (shared by every write of one transaction). */
  readonly ts: Timestamp;
  readonly wallTime: Date;
  /** Position inside the transaction; 0 outside transactions. */
  readonly txnOpIndex: number;
  readonly op: OplogOperation;
  readonly ns: { db: string; coll?: string };
  /** UUID of the collection written (every operation but dropDatabase). */
  readonly collectionUUID?: Binary;
  readonly documentKey?: Document;
  /** Inserted document, or the post-image of an update/replace. */
  readonly postImage?: Document;
  /** Pre-image, recorded only when the collection has changeStreamPreAndPostImages enabled. */
  readonly preImage?: Document;
  /** True when the collection recorded images for this write (changeStreamPreAndPostImages). */
  readonly imagesRecorded: boolean;
  readonly updateDescription?: UpdateDescription;
  /**
   * The update description's ambiguous paths split into their parts (array
   * indexes as numbers): its `disambiguatedPaths`, shown only to streams
   * with `showExpandedEvents`.
   */
  readonly disambiguatedPaths?: Document;
  readonly to?: { db: string; coll: string };
  /** DDL events' `operationDescription` (create, createIndexes, dropIndexes, modify, rename). */
  readonly operationDescription?: Document;
  /** A modify event's `stateBeforeChange` (the collection's options before collMod). */
  readonly stateBeforeChange?: Document;
  readonly lsid?: Document;
  readonly txnNumber?: number | bigint | object;
  /** Resume token `_data` of this entry's event. */
  readonly token: string;
  /** Approximate size in bytes, counted against `maxBytes`. */
  readonly bytes: number;
}

/** Fields of a new entry; the oplog fills in sequence, token and size. */
export type OplogWrite = Omit<
  OplogEntry,
  'seq' | 'token' | 'bytes' | 'ts' | 'wallTime' | 'txnOpIndex'
>;

/** Size limits of the oplog; the oldest entries fall off first. */
export interface OplogLimits {
  maxEntries?: number;
  maxBytes?: number;
}

/**
 * The bounded, in-memory oplog. Change streams read it by position; entries
 * that fall off are remembered only by the newest lost timestamp, which is
 * what decides ChangeStreamHistoryLost (286).
 */
export class Oplog {
  #entries: OplogEntry[] = [];
  #head = 0;
  #nextSeq = 0;
  #bytes = 0;
  #lostUpTo: Timestamp | undefined;
  readonly #limits: OplogLimits;
  readonly #listeners = new Set<() => void>();

  constructor(limits: OplogLimits = {}) {
    this.#limits = limits;
  }

  /** Appends writes that share one cluster time (one write, or one committed transaction). */
  append(ts: Timestamp, writes: OplogWrite[], wallTime = new Date()): OplogEntry[] {
    const added = writes.map((write, index) => {
      const entry: OplogEntry = {
        ...write,
        seq: this.#nextSeq++,
        ts,
        wallTime,
        txnOpIndex: index,
        token: tokenData(ts, index, 'event'),
        bytes: this.#limits.maxBytes === undefined ? 0 : estimateBytes(write),
      };
      this.#entries.push(entry);
      this.#bytes += entry.bytes;
      return entry;
    });
    this.#truncate();
    for (const listener of [...this.#listeners]) listener();
    return added;
  }

  /**
   * Appends entries read back from the journal as they were (sequence
   * numbers, times and tokens kept), measured and bounded by this oplog's
   * limits, which may differ from those they were first appended under.
   */
  replay(entries: readonly OplogEntry[]): void {
    for (const entry of entries) {
      const sized = this.#measured(entry);
      this.#entries.push(sized);
      this.#bytes += sized.bytes;
      this.#nextSeq = entry.seq + 1;
    }
    this.#truncate();
  }

  /**
   * Restores entries loaded from disk (keeps their sequence numbers and
   * tokens), bounded by this oplog's limits at once, not at the next write.
   */
  load(entries: OplogEntry[], lostUpTo: Timestamp | undefined): void {
    this.#entries = entries.map((entry) => this.#measured(entry));
    this.#head = 0;
    this.#nextSeq = entries.length > 0 ? (entries[entries.length - 1] as OplogEntry).seq + 1 : 0;
    this.#bytes = this.#entries.reduce((sum, entry) => sum + entry.bytes, 0);
    this.#lostUpTo = lostUpTo;
    this.#truncate();
  }

  /** An entry with its size as this oplog counts it (0 when it has no byte bound). */
  #measured(entry: OplogEntry): OplogEntry {
    const bytes = this.#limits.maxBytes === undefined ? 0 : estimateBytes(entry);
    return bytes === entry.bytes ? entry : { ...entry, bytes };
  }

  #truncate(): void {
    const { maxEntries, maxBytes } = this.#limits;
    while (
      this.size > 0 &&
      ((maxEntries !== undefined && this.size > maxEntries) ||
        (maxBytes !== undefined && this.#bytes > maxBytes))
    ) {
      const dropped = this.#entries[this.#head] as OplogEntry;
      this.#head += 1;
      this.#bytes -= dropped.bytes;
      this.#lostUpTo = dropped.ts;
    }
    // Compact now and then so the array does not grow without bound.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Number of retained entries. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Sequence number the next entry will get. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** The newest timestamp whose entries were truncated, if any were. */
  get lostUpTo(): Timestamp | undefined {
    return this.#lostUpTo;
  }

  /** Last appended entry. */
  get last(): OplogEntry | undefined {
    return this.size > 0 ? this.#entries[this.#entries.length - 1] : undefined;
  }

  /** The retained entry with sequence `seq`, or undefined once it fell off. */
  at(seq: number): OplogEntry | undefined {
    const first = this.#entries[this.#head];
    if (!first) return undefined;
    return this.#entries[this.#head + (seq - first.seq)];
  }

  /** Sequence of the first retained entry (or `nextSeq` when empty). */
  get firstSeq(): number {
    return this.#entries[this.#head]?.seq ?? this.#nextSeq;
  }

  /** Sequence of the first retained entry whose token is greater than `token` (binary search). */
  seqAfterToken(token: string): number {
    return this.#search((entry) => entry.token > token);
  }

  /** Sequence of the first retained entry at or after `ts`. */
  seqAtOrAfter(ts: Timestamp): number {
    return this.#search((entry) => compareTimestamps(entry.ts, ts) >= 0);
  }

  #search(isAfter: (entry: OplogEntry) => boolean): number {
    let low = this.#head;
    let high = this.#entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (isAfter(this.#entries[mid] as OplogEntry)) high = mid;
      else low = mid + 1;
    }
    return this.#entries[low]?.seq ?? this.#nextSeq;
  }

  /** Retained entries, oldest first (a copy). */
  entries(): OplogEntry[] {
    return this.#entries.slice(this.#head);
  }

  /** Calls `listener` after every append until the returned function is called. */
  onAppend(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

function estimateBytes(write: OplogWrite): number {
  let bytes = 64;
  if (write.postImage) bytes += calculateObjectSize(write.postImage);
  if (write.preImage) bytes += calculateObjectSize(write.preImage);
  if (write.updateDescription)
    bytes += calculateObjectSize(write.updateDescription as unknown as Document);
  if (write.documentKey) bytes += calculateObjectSize(write.documentKey);
  return bytes;
}
