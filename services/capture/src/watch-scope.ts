import type { ChangeStream, ChangeStreamOptions, MongoClient } from 'mongodb';

/** What capture's change stream watches, and what each of its events carries. */
export interface WatchScope {
  readonly client: MongoClient;
  readonly scope: 'collection' | 'database' | 'deployment';
  readonly database?: string;
  readonly collection?: string;
  readonly fullDocument: 'default' | 'updateLookup' | 'whenAvailable' | 'required';
  readonly fullDocumentBeforeChange: 'off' | 'whenAvailable' | 'required';
  /** How one wait for events may last before timers run (getMore's maxAwaitTimeMS). */
  readonly maxAwaitTimeMs?: number;
}

/**
 * Opens the change stream `watch` describes from `position`
 * (`startAfter` a resume token, or `startAtOperationTime`).
 */
export function openChangeStream(watch: WatchScope, position: ChangeStreamOptions): ChangeStream {
  const options: ChangeStreamOptions = {
    ...position,
    fullDocument: watch.fullDocument,
    maxAwaitTimeMS: watch.maxAwaitTimeMs ?? 500,
    ...(watch.fullDocumentBeforeChange === 'off'
      ? {}
      : { fullDocumentBeforeChange: watch.fullDocumentBeforeChange }),
  };
  if (watch.scope === 'deployment') return watch.client.watch([], options);
  const db = watch.client.db(watch.database);
  return watch.scope === 'database'
    ? db.watch([], options)
    : db.collection(watch.collection ?? '').watch([], options);
}
