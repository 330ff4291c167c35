import type { CollectionData } from './collection-data.ts';
import type { Document } from 'bson';
import type { OplogWrite } from '../oplog/oplog.ts';

/**
 * Where a write statement reads and writes: straight into the catalog (each
 * write its own oplog entry), or into a transaction's private snapshot (oplog
 * entries held back until commit). Write code is the same for both.
 */
export interface WriteScope {
  /** The collection as this scope sees it, or undefined when it does not exist. */
  read(db: string, coll: string): CollectionData | undefined;
  /** The collection, created implicitly when missing (as inserts and upserts do). */
  write(db: string, coll: string): CollectionData;
  /**
   * Records one change for change streams. `before` is the document the
   * write replaced or removed (as this scope saw it), which transactions use
   * to detect write conflicts at commit.
   */
  record(write: OplogWrite, before?: Document): void;
}
