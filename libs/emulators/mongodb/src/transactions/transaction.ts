import type { Document } from 'bson';
import type { Catalog } from '../storage/catalog.ts';
import { CollectionData, type CollectionOptions } from '../storage/collection-data.ts';
import { createEntry } from '../oplog/ddl-entries.ts';
import type { OplogWrite } from '../oplog/oplog.ts';
import type { WriteScope } from '../storage/write-scope.ts';
import { idKey } from '../storage/bson-values.ts';
import type { DocumentLocks, LockOwner } from './document-locks.ts';

/** Lifecycle of a multi-document transaction. */
export type TransactionState = 'inProgress' | 'committed' | 'aborted';

/** The name a document is locked by: namespace and `_id` key. */
export function documentLockKey(db: string, coll: string, id: unknown): string {
  return `${db}.${coll}\u0000${idKey(id)}`;
}

/**
 * A multi-document transaction: reads and writes go to private snapshots of
 * the collections it touches; its oplog entries are held back and appended
 * together, under one cluster time, at commit. Nothing is visible to others
 * (or to change streams) before that. The documents it writes are held
 * (DocumentLocks) from the write until it ends, so a conflicting writer is
 * refused or waits at its write, as on the server, never at commit.
 */
export class Transaction implements WriteScope, LockOwner {
  readonly lsid: Document;
  readonly txnNumber: number;
  /** When it started, for transactionLifetimeLimitSeconds. */
  readonly startedAt = Date.now();
  readonly snapshotWrite: number;
  state: TransactionState = 'inProgress';
  readonly writes: OplogWrite[] = [];
  readonly #catalog: Catalog;
  readonly #locks: DocumentLocks;
  /** The collections it touched, as it sees them; `created` when it made the collection itself. */
  readonly #snapshots = new Map<
    string,
    { db: string; coll: string; data: CollectionData | undefined; created: boolean }
  >();

  constructor(catalog: Catalog, locks: DocumentLocks, lsid: Document, txnNumber: number) {
    this.#catalog = catalog;
    this.#locks = locks;
    this.lsid = lsid;
    this.txnNumber = txnNumber;
    this.snapshotWrite = locks.snapshot;
    locks.begin(this);
  }

  #snapshot(db: string, coll: string): { data: CollectionData | undefined; created: boolean } {
    const name = `${db}.${coll}`;
    let entry = this.#snapshots.get(name);
    if (!entry) {
      entry = { db, coll, data: this.#catalog.get(db, coll)?.snapshot(), created: false };
      this.#snapshots.set(name, entry);
    }
    return entry;
  }

  read(db: string, coll: string): CollectionData | undefined {
    return this.#snapshot(db, coll).data;
  }

  /** A collection it creates (explicitly or by a write) exists for others only once it commits. */
  write(db: string, coll: string, options?: CollectionOptions): CollectionData {
    const entry = this.#snapshot(db, coll);
    if (!entry.data) {
      entry.data = new CollectionData(options ? { options } : {});
      entry.created = true;
      this.record(createEntry({ db, coll }, entry.data));
    }
    return entry.data;
  }

  /** True when this transaction created the collection (createIndexes may then build on it). */
  createdHere(db: string, coll: string): boolean {
    return this.#snapshot(db, coll).created;
  }

  /** The collections it created, to be put in the catalog at commit. */
  createdCollections(): Array<{ db: string; coll: string; data: CollectionData }> {
    const created: Array<{ db: string; coll: string; data: CollectionData }> = [];
    for (const { db, coll, data, created: here } of this.#snapshots.values())
      if (here && data) created.push({ db, coll, data });
    return created;
  }

  claim(db: string, coll: string, ids: readonly unknown[]): void {
    this.#locks.claimForTransaction(
      this,
      ids.map((id) => documentLockKey(db, coll, id)),
    );
  }

  /** Ends the transaction without applying anything; its snapshots are freed. */
  abort(): void {
    this.state = 'aborted';
    this.#release();
  }

  /** Marks the transaction committed once its writes are applied; its snapshots are freed. */
  committed(): void {
    this.state = 'committed';
    this.#release();
  }

  // A finished transaction stays reachable from its session; it must not keep collection copies alive.
  #release(): void {
    this.#snapshots.clear();
    this.writes.length = 0;
    this.#locks.release(this);
  }

  record(write: OplogWrite): void {
    this.writes.push(write);
  }
}
