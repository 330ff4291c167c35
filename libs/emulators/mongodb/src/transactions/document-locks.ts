import { CommandError } from '../errors/command-error.ts';

/** A party that can hold documents: an open transaction. */
export interface LockOwner {
  /** The committed-write count when its snapshot was taken. */
  readonly snapshotWrite: number;
}

/**
 * Thrown by a write outside any transaction that meets a document an open
 * transaction has written: the server makes such a write wait until the
 * transaction ends (its write-conflict retry loop). The write statement
 * runs again once `ended` resolves — nothing of it has been applied.
 */
export class BlockedByTransaction extends Error {
  readonly ended: Promise<void>;

  constructor(ended: Promise<void>) {
    super('the write waits for a transaction that holds the document');
    this.name = 'BlockedByTransaction';
    this.ended = ended;
  }
}

/** True when `value` is a {@link BlockedByTransaction}. */
export function isBlockedByTransaction(value: unknown): value is BlockedByTransaction {
  return value instanceof BlockedByTransaction;
}

function writeConflict(): CommandError {
  return new CommandError(
    'WriteConflict',
    'Write conflict during plan execution and yielding is disabled. :: Please retry your operation or multi-document transaction.',
  );
}

/**
 * Who may write which document, as the server's storage engine decides it
 * for transactions (first writer wins): a transaction writing a document
 * another open transaction has written, or one committed since its
 * snapshot, fails at once with WriteConflict (112); a write outside any
 * transaction waits for the transaction holding the document to end.
 * Documents are named `db.coll` + `_id` key.
 */
export class DocumentLocks {
  /** Committed writes so far; a snapshot is a value of it. */
  #writes = 0;
  readonly #holders = new Map<string, LockOwner>();
  readonly #held = new Map<
    LockOwner,
    { keys: Set<string>; ended: () => void; done: Promise<void> }
  >();
  /** When each document was last written, kept only while an open transaction's snapshot predates it. */
  readonly #lastWritten = new Map<string, number>();

  /** Registers an open transaction (its snapshot taken from {@link snapshot} just before). */
  begin(owner: LockOwner): void {
    let ended: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      ended = resolve;
    });
    this.#held.set(owner, { keys: new Set(), ended, done });
  }

  /** The current committed-write count, a new transaction's snapshot. */
  get snapshot(): number {
    return this.#writes;
  }

  /** A transaction is about to write these documents: conflict, or hold them until it ends. */
  claimForTransaction(owner: LockOwner, keys: readonly string[]): void {
    const state = this.#held.get(owner);
    if (!state) throw writeConflict();
    for (const key of keys) {
      const holder = this.#holders.get(key);
      if (holder && holder !== owner) throw writeConflict();
      if ((this.#lastWritten.get(key) ?? 0) > owner.snapshotWrite) throw writeConflict();
    }
    for (const key of keys) {
      this.#holders.set(key, owner);
      state.keys.add(key);
    }
  }

  /** A write outside transactions is about to write these documents: wait if a transaction holds one. */
  claimOutsideTransaction(keys: readonly string[]): void {
    for (const key of keys) {
      const holder = this.#holders.get(key);
      if (holder) throw new BlockedByTransaction(this.#held.get(holder)?.done ?? Promise.resolve());
    }
  }

  /** Documents were written and are visible to all (a write outside transactions, or a commit). */
  written(keys: Iterable<string>): void {
    this.#writes += 1;
    // Only an open transaction's snapshot can predate this write; with none open there is nothing to remember.
    if (this.#held.size === 0) return;
    for (const key of keys) this.#lastWritten.set(key, this.#writes);
  }

  /** The transaction ended (committed or aborted): its documents are free, writers waiting on it go on. */
  release(owner: LockOwner): void {
    const state = this.#held.get(owner);
    if (!state) return;
    this.#held.delete(owner);
    for (const key of state.keys) if (this.#holders.get(key) === owner) this.#holders.delete(key);
    state.ended();
    this.#forgetOldWrites();
  }

  /** Writes older than every open snapshot can conflict with nothing any more. */
  #forgetOldWrites(): void {
    if (this.#held.size === 0) {
      this.#lastWritten.clear();
      return;
    }
    const oldest = Math.min(...[...this.#held.keys()].map((owner) => owner.snapshotWrite));
    for (const [key, write] of this.#lastWritten)
      if (write <= oldest) this.#lastWritten.delete(key);
  }
}
