import type { Document } from 'bson';
import type { Catalog } from '../storage/catalog.ts';
import type { CollectionData } from '../storage/collection-data.ts';
import type { OplogWrite } from '../oplog/oplog.ts';
import type { WriteScope } from '../storage/write-scope.ts';
import { idKey } from '../storage/bson-values.ts';

/** Lifecycle of a multi-document transaction. */
export type TransactionState = 'inProgress' | 'committed' | 'aborted';

/**
 * A multi-document transaction: reads and writes go to private snapshots of
 * the collections it touches; its oplog entries are held back and appended
 * together, under one cluster time, at commit. Nothing is visible to others
 * (or to change streams) before that.
 */
export class Transaction implements WriteScope {
  readonly lsid: Document;
  readonly txnNumber: number;
  /** When it started, for transactionLifetimeLimitSeconds. */
  readonly startedAt = Date.now();
  state: TransactionState = 'inProgress';
  readonly writes: OplogWrite[] = [];
  readonly #catalog: Catalog;
  readonly #snapshots = new Map<
    string,
    { db: string; coll: string; data: CollectionData | undefined }
  >();
  /** The document each written key had in the catalog when first read, to detect write conflicts. */
  readonly baselines = new Map<
    string,
    { db: string; coll: string; key: string; doc: Document | undefined }
  >();

  constructor(catalog: Catalog, lsid: Document, txnNumber: number) {
    this.#catalog = catalog;
    this.lsid = lsid;
    this.txnNumber = txnNumber;
  }

  #snapshot(db: string, coll: string): { data: CollectionData | undefined } {
    const name = `${db}.${coll}`;
    let entry = this.#snapshots.get(name);
    if (!entry) {
      entry = { db, coll, data: this.#catalog.get(db, coll)?.snapshot() };
      this.#snapshots.set(name, entry);
    }
    return entry;
  }

  read(db: string, coll: string): CollectionData | undefined {
    return this.#snapshot(db, coll).data;
  }

  write(db: string, coll: string): CollectionData {
    const entry = this.#snapshot(db, coll);
    if (!entry.data) {
      entry.data = this.#catalog.ensure(db, coll).collection.snapshot();
    }
    return entry.data;
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
    this.baselines.clear();
    this.writes.length = 0;
  }

  record(write: OplogWrite, before?: Document): void {
    const db = write.ns.db;
    const coll = write.ns.coll as string;
    const key = idKey(write.documentKey?._id);
    const name = `${db}.${coll}.${key}`;
    // The first write to a key remembers what the snapshot saw; commit checks the catalog still has it.
    if (!this.baselines.has(name)) this.baselines.set(name, { db, coll, key, doc: before });
    this.writes.push(write);
  }
}
