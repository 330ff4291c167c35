import { Long, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { EXPANDED_ONLY_OPERATIONS, type OplogEntry } from '../oplog/oplog.ts';
import { tokenData } from '../oplog/resume-token.ts';
import { INTERNAL_DATABASES } from '../storage/catalog.ts';
import { carryKinds } from '../storage/numeric-types.ts';
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
  const { scope, showExpandedEvents: expanded } = spec;
  if (entry.op === 'dropDatabase' && scope.kind === 'collection') return [];
  if (!expanded && EXPANDED_ONLY_OPERATIONS.has(entry.op)) return [];
  if (!inScope(scope, entry)) return [];
  // Field order follows the server's event transformation (change_stream_event_transform.cpp).
  const event: Document = {
    _id: { _data: entry.token },
    operationType: entry.op,
    clusterTime: entry.ts,
  };
  // A view has no uuid of its own (its create event carries none).
  const view = entry.op === 'create' && entry.operationDescription?.viewOn !== undefined;
  if (expanded && entry.collectionUUID && !view) event.collectionUUID = entry.collectionUUID;
  event.wallTime = entry.wallTime;
  if (entry.op === 'insert' || entry.op === 'replace') event.fullDocument = entry.postImage;
  event.ns = entry.op === 'dropDatabase' ? { db: entry.ns.db } : { ...entry.ns };
  if (entry.documentKey) event.documentKey = entry.documentKey;
  if (entry.op === 'rename') event.to = entry.to;
  if (expanded && entry.operationDescription)
    event.operationDescription = entry.operationDescription;
  if (entry.updateDescription) event.updateDescription = updateDescription(entry, expanded);
  if (entry.stateBeforeChange) event.stateBeforeChange = entry.stateBeforeChange;
  // Since 8.0 a create event says what was created (the emulator has no time-series collections).
  if (entry.op === 'create') event.nsType = view ? 'view' : 'collection';
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

/** `disambiguatedPaths` belongs to expanded events only (the server leaves it out otherwise). */
function updateDescription(entry: OplogEntry, expanded: boolean): Document {
  const description = entry.updateDescription as Document;
  if (!expanded) return description;
  const shown = { ...description, disambiguatedPaths: entry.disambiguatedPaths ?? {} };
  carryKinds(description, shown);
  return shown;
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
