import { Long, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import type { OplogEntry } from '../oplog/oplog.ts';
import { tokenData } from '../oplog/resume-token.ts';
import { INTERNAL_DATABASES } from '../storage/catalog.ts';
import type { ChangeStreamScope, ChangeStreamSpec } from './change-stream-spec.ts';

/** Looks up a document's current version, for `fullDocument: 'updateLookup'`. */
export type DocumentLookup = (db: string, coll: string, documentKey: Document) => Document | null;

/** One change event, with its token for ordering and resuming. */
export interface BuiltEvent {
  token: string;
  event: Document;
  /** True for an invalidate: the stream ends after it. */
  invalidates: boolean;
}

function inScope(scope: ChangeStreamScope, entry: OplogEntry): boolean {
  const { db, coll } = entry.ns;
  if (scope.kind === 'deployment')
    return !INTERNAL_DATABASES.has(db) && !coll?.startsWith('system.');
  if (scope.kind === 'database') return db === scope.db && !coll?.startsWith('system.');
  return db === scope.db && coll === scope.coll;
}

/** Does this entry end a stream of this scope (after its own event)? */
function invalidatesScope(scope: ChangeStreamScope, entry: OplogEntry): boolean {
  if (scope.kind === 'collection') return entry.op === 'drop' || entry.op === 'rename';
  if (scope.kind === 'database') return entry.op === 'dropDatabase';
  return false;
}

/**
 * Turns oplog entries into the change events MongoDB 7/8 emits for one
 * stream ("Change Events" in the server manual): the scope filter, the
 * event shape per operation type, the fullDocument and pre-image options,
 * and the invalidate that ends collection and database streams.
 */
export function buildEvents(
  entry: OplogEntry,
  spec: ChangeStreamSpec,
  lookup: DocumentLookup,
): BuiltEvent[] {
  const { scope } = spec;
  if (entry.op === 'dropDatabase' && scope.kind === 'collection') return [];
  if (!inScope(scope, entry)) return [];
  const event: Document = {
    _id: { _data: entry.token },
    operationType: entry.op,
    clusterTime: entry.ts,
    wallTime: entry.wallTime,
  };
  switch (entry.op) {
    case 'insert':
    case 'replace':
      event.fullDocument = entry.postImage;
      event.ns = { db: entry.ns.db, coll: entry.ns.coll };
      event.documentKey = entry.documentKey;
      break;
    case 'update':
      event.ns = { db: entry.ns.db, coll: entry.ns.coll };
      event.documentKey = entry.documentKey;
      event.updateDescription = entry.updateDescription;
      break;
    case 'delete':
      event.ns = { db: entry.ns.db, coll: entry.ns.coll };
      event.documentKey = entry.documentKey;
      break;
    case 'drop':
      event.ns = { db: entry.ns.db, coll: entry.ns.coll };
      break;
    case 'rename':
      event.ns = { db: entry.ns.db, coll: entry.ns.coll };
      event.to = entry.to;
      break;
    case 'dropDatabase':
      event.ns = { db: entry.ns.db };
      break;
  }
  addImages(event, entry, spec, lookup);
  if (entry.lsid) {
    event.lsid = entry.lsid;
    event.txnNumber =
      typeof entry.txnNumber === 'number' ? Long.fromNumber(entry.txnNumber) : entry.txnNumber;
  }
  const events: BuiltEvent[] = [{ token: entry.token, event, invalidates: false }];
  if (invalidatesScope(scope, entry)) {
    const token = tokenData(entry.ts, entry.txnOpIndex, 'invalidate');
    events.push({
      token,
      event: {
        _id: { _data: token },
        operationType: 'invalidate',
        clusterTime: entry.ts,
        wallTime: entry.wallTime,
      },
      invalidates: true,
    });
  }
  return events;
}

function addImages(
  event: Document,
  entry: OplogEntry,
  spec: ChangeStreamSpec,
  lookup: DocumentLookup,
): void {
  if (entry.op === 'update') {
    const mode = spec.fullDocument;
    if (mode === 'updateLookup') {
      event.fullDocument = lookup(
        entry.ns.db,
        entry.ns.coll as string,
        entry.documentKey as Document,
      );
    } else if (mode === 'whenAvailable' || mode === 'required') {
      if (entry.imagesRecorded && entry.postImage) event.fullDocument = entry.postImage;
      else if (mode === 'whenAvailable') event.fullDocument = null;
      else throw missingImage('post-image', entry);
    }
  }
  const preMode = spec.fullDocumentBeforeChange;
  if (
    preMode !== 'off' &&
    (entry.op === 'update' || entry.op === 'replace' || entry.op === 'delete')
  ) {
    if (entry.imagesRecorded && entry.preImage) event.fullDocumentBeforeChange = entry.preImage;
    else if (preMode === 'whenAvailable') event.fullDocumentBeforeChange = null;
    else throw missingImage('pre-image', entry);
  }
}

function missingImage(kind: 'pre-image' | 'post-image', entry: OplogEntry): CommandError {
  return new CommandError(
    'NoMatchingDocument',
    `Change stream was configured to require a ${kind} for all update, delete and replace events, but the ${kind} was not found for event: ${entry.token}`,
  );
}
