import type { ScannedLine } from '@tributary/lake';
import { documentIdKey, fingerprint } from './document-fingerprint.ts';

/** What the lake says a document is now, from its latest event. */
export interface DocumentState {
  /** Ordering key of the latest event. */
  readonly key: string;
  /**
   * The content's {@link fingerprint}; `DELETED` after a delete; `UNKNOWN`
   * after an update that carried no post-image (capture without
   * `updateLookup`, or a document gone by the time it was looked up).
   */
  readonly content: string;
  /** The latest event's line in the scan's ledger. */
  readonly entry: number;
}

export const DELETED = '-';
export const UNKNOWN = '?';

/**
 * The latest state of every document the lake has events for, rebuilt from
 * the lines as they are read in any order: an event replaces a document's
 * state only when its ordering key is greater. Per document it keeps a key,
 * a 27-character digest and a ledger index, never the document.
 *
 * A drop or rename of the collection, or a drop of its database, ends every
 * document whose latest event came before it.
 */
export class DocumentStates {
  readonly #byNamespace = new Map<string, Map<string, DocumentState>>();
  /** Latest drop/rename per collection, and dropDatabase per database. */
  readonly #collectionEnds = new Map<string, string>();
  readonly #databaseEnds = new Map<string, string>();
  /**
   * Ledger entries of invalidate events: capture's collection- or
   * database-scoped stream ends with one when its target is dropped or
   * renamed, a deployment-wide replay never shows them, so they are no
   * events of the source to match.
   */
  readonly invalidations = new Set<number>();

  /** Feeds one line (from `scanLake`'s `onLine`). */
  add(line: ScannedLine): void {
    const event = line.event;
    const key = event._tributary.key;
    switch (event.operationType) {
      case 'insert':
      case 'replace':
      case 'update':
      case 'delete': {
        const documentKey = event.documentKey as { _id?: unknown } | undefined;
        if (!documentKey || !('_id' in documentKey)) return;
        const content =
          event.operationType === 'delete'
            ? DELETED
            : event.fullDocument && typeof event.fullDocument === 'object'
              ? fingerprint(event.fullDocument)
              : UNKNOWN;
        let documents = this.#byNamespace.get(line.namespace);
        if (!documents) {
          documents = new Map();
          this.#byNamespace.set(line.namespace, documents);
        }
        const id = documentIdKey(documentKey._id);
        const known = documents.get(id);
        if (!known || key > known.key) documents.set(id, { key, content, entry: line.entry });
        return;
      }
      case 'drop':
      case 'rename':
        later(this.#collectionEnds, line.namespace, key);
        return;
      case 'dropDatabase':
        later(this.#databaseEnds, line.namespace, key);
        return;
      case 'invalidate':
        this.invalidations.add(line.entry);
        return;
      default:
        return;
    }
  }

  /** Documents of `namespace` (`db.coll`) the lake has events for, by {@link documentIdKey}. */
  documents(namespace: string): ReadonlyMap<string, DocumentState> {
    return this.#byNamespace.get(namespace) ?? new Map();
  }

  /** The content the lake gives a document now: a drop after its latest event deletes it. */
  contentOf(namespace: string, state: DocumentState): string {
    const db = namespace.slice(0, namespace.indexOf('.'));
    const ended = [this.#collectionEnds.get(namespace), this.#databaseEnds.get(db)];
    return ended.some((end) => end !== undefined && end > state.key) ? DELETED : state.content;
  }
}

function later(map: Map<string, string>, name: string, key: string): void {
  const known = map.get(name);
  if (known === undefined || key > known) map.set(name, key);
}
