import type { CollectionData, CollectionOptions } from './collection-data.ts';
import type { OplogWrite } from '../oplog/oplog.ts';

/**
 * Where a write statement reads and writes: straight into the catalog (each
 * write its own oplog entry), or into a transaction's private snapshot (oplog
 * entries held back until commit). Write code is the same for both.
 */
export interface WriteScope {
  /** The collection as this scope sees it, or undefined when it does not exist. */
  read(db: string, coll: string): CollectionData | undefined;
  /**
   * The collection, created when missing — implicitly as inserts and upserts
   * do, or with `options` by `create` — and its create entry recorded.
   */
  write(db: string, coll: string, options?: CollectionOptions): CollectionData;
  /**
   * Announces the documents (by `_id`) a statement is about to write, before
   * it changes anything: in a transaction a document another transaction
   * holds is a WriteConflict; outside, the statement waits for that
   * transaction (BlockedByTransaction, then it runs again).
   */
  claim(db: string, coll: string, ids: readonly unknown[]): void;
  /** Records one change for change streams (a document's, or a catalog change's). */
  record(write: OplogWrite): void;
}
