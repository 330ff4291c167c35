import type { Binary } from 'bson';
import { UUID, type Document } from 'bson';
import { idKey } from './bson-values.ts';
import type { CollectionValidation } from './document-validation.ts';
import type { ViewDefinition } from './views.ts';

/** The `_id` index every collection has (listIndexes, listCollections' idIndex, create events). */
export const ID_INDEX = { v: 2, key: { _id: 1 }, name: '_id_' };

/** Collection options the emulator honours. */
export interface CollectionOptions {
  /** Record pre- and post-images for change streams (`collMod`/`create` option). */
  changeStreamPreAndPostImages: boolean;
  /** Schema validation (`validator`, `validationLevel`, `validationAction`), when set. */
  validation?: CollectionValidation | undefined;
  /** Set when the entry is a view (views.ts): it has no documents of its own. */
  view?: ViewDefinition | undefined;
}

/**
 * The documents of one collection, keyed by `_id`, in insertion order (the
 * natural order `find` returns without a sort). Documents are replaced, never
 * mutated, so cursors and change events can share them.
 */
export class CollectionData {
  readonly uuid: Binary;
  readonly docs: Map<string, Document>;
  #options: CollectionOptions;
  #indexes: readonly Document[];
  /**
   * Called after the options or the indexes are replaced. The catalog sets it
   * on the collections it holds (persistence journals the change); a
   * transaction's private snapshot has none.
   */
  onMetadataChange: (() => void) | undefined;

  constructor(
    init: {
      uuid?: Binary;
      docs?: Map<string, Document>;
      options?: CollectionOptions;
      indexes?: readonly Document[];
    } = {},
  ) {
    this.uuid = init.uuid ?? new UUID().toBinary();
    this.docs = init.docs ?? new Map();
    this.#options = init.options ?? { changeStreamPreAndPostImages: false };
    this.#indexes = init.indexes ?? [];
  }

  /** Collection options; replaced whole, never changed in place, so every change is seen. */
  get options(): CollectionOptions {
    return this.#options;
  }

  set options(options: CollectionOptions) {
    this.#options = options;
    this.onMetadataChange?.();
  }

  /** Secondary index specs from createIndexes (listed; unique ones enforced); replaced whole. */
  get indexes(): readonly Document[] {
    return this.#indexes;
  }

  set indexes(indexes: readonly Document[]) {
    this.#indexes = indexes;
    this.onMetadataChange?.();
  }

  /** A copy sharing the documents, which a transaction reads and writes in isolation. */
  snapshot(): CollectionData {
    return new CollectionData({
      uuid: this.uuid,
      docs: new Map(this.docs),
      options: { ...this.options },
      indexes: [...this.indexes],
    });
  }

  /** The document with this `_id`, if any. */
  get(id: unknown): Document | undefined {
    return this.docs.get(idKey(id));
  }

  /**
   * Documents that may match `filter`: just the one document when the filter
   * pins `_id` to a plain value (the _id index), otherwise all of them. The
   * caller still applies the full filter. Under a collation (`collated`) a
   * string _id may equal others than itself, so every document is a candidate.
   */
  candidates(filter: Document | undefined, collated = false): Document[] {
    const id = filter?._id;
    if (id !== undefined && isIndexableValue(id) && !(collated && typeof id === 'string')) {
      const doc = this.get(id);
      return doc ? [doc] : [];
    }
    return this.all();
  }

  /** All documents in natural order. */
  all(): Document[] {
    return [...this.docs.values()];
  }
}

/** A value the _id index can look up directly (not an operator object, array or regex). */
function isIndexableValue(value: unknown): boolean {
  if (value === null || Array.isArray(value) || value instanceof RegExp) return false;
  if (typeof value !== 'object') return true;
  const proto = Object.getPrototypeOf(value);
  // Plain objects may hold operators ({ $in: [...] }); BSON values (ObjectId, ...) are exact keys.
  return proto !== Object.prototype && proto !== null && !(value instanceof Date);
}
