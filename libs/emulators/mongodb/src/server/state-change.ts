import type { Binary, Document } from 'bson';
import type { OplogEntry } from '../oplog/oplog.ts';
import type { CollectionOptions } from '../storage/collection-data.ts';

/**
 * One change to the node's persisted state, as persistence journals it.
 * Every change of documents, drops and renames is an oplog append (the
 * entries carry the post-image or the key, so replaying them rebuilds the
 * collections); what leaves no oplog entry — a collection created, its
 * options or indexes changed — is a collection change carrying the whole
 * new metadata.
 */
export type StateChange =
  | { readonly kind: 'oplog'; readonly entries: readonly OplogEntry[] }
  | {
      readonly kind: 'collection';
      readonly db: string;
      readonly coll: string;
      readonly uuid: Binary;
      readonly options: CollectionOptions;
      readonly indexes: readonly Document[];
    }
  /** A view dropped: it leaves no oplog entry (a view holds no documents). */
  | { readonly kind: 'removed'; readonly db: string; readonly coll: string };
