import { Timestamp, type Document, type Long } from 'bson';
import { Aggregator } from 'mingo';
import { CommandError } from '../errors/command-error.ts';
import type { ClusterClock } from '../oplog/cluster-clock.ts';
import type { Oplog } from '../oplog/oplog.ts';
import { compareTimestamps, tokenData } from '../oplog/resume-token.ts';
import { translateQueryError } from '../query/query-engine.ts';
import { MAX_INTERNAL_DOCUMENT_BYTES, objectTooLarge } from '../storage/document-size-limits.ts';
import { arrayIndexKey, BsonWriter } from '../wire/bson-writer.ts';
import { EncodedDocuments } from '../wire/encoded-documents.ts';
import {
  type CursorBatch,
  type GetMoreOptions,
  type ServerCursor,
} from '../cursors/server-cursor.ts';
import type { ChangeStreamSpec } from './change-stream-spec.ts';
import { buildEvents, type BuiltEvent, type DocumentLookup } from './event-builder.ts';

/**
 * Change-stream batches stop at 1 MiB rather than the server's 16 MiB (a
 * single event may still be up to 16 MiB + 16 KiB, alone in its batch):
 * with the driver in the same process, 1 MiB replies measured at least as
 * fast as 4 MiB ones and far faster than 16 MiB ones (the driver assembles
 * every reply into one fresh buffer), and batch boundaries are invisible to
 * clients (the postBatchResumeToken of a cut batch is its last event's token).
 */
const CHANGE_STREAM_BATCH_BYTES = 1024 * 1024;

/** The server's default await time for a tailable awaitData getMore without maxTimeMS. */
const DEFAULT_AWAIT_MS = 1000;

const HISTORY_LOST_MESSAGE =
  'Resume of change stream was not possible, as the resume point may no longer be in the oplog.';

/**
 * A change stream: a tailable, awaitData cursor over the oplog. It keeps its
 * place as an oplog sequence plus the token of the last thing it reported, so
 * a batch can stop anywhere and the next getMore continues exactly there.
 */
export class ChangeStreamCursor implements ServerCursor {
  readonly id: Long;
  readonly ns: string;
  readonly isChangeStream = true;
  lastUsed = Date.now();
  busy = false;
  readonly #spec: ChangeStreamSpec;
  readonly #oplog: Oplog;
  readonly #clock: ClusterClock;
  readonly #lookup: DocumentLookup;
  readonly #userPipeline: Aggregator | undefined;
  /** Next oplog sequence to read. */
  #position: number;
  /** Events at or before this token are not reported (resume point). */
  #skipThrough: string;
  /** Events built but not yet returned (a batch ended in the middle of an entry). */
  #pending: BuiltEvent[] = [];
  /** Token of the last event returned, or the starting point. */
  #lastToken: string;
  #invalidated = false;
  #closed = false;

  constructor(init: {
    id: Long;
    ns: string;
    spec: ChangeStreamSpec;
    oplog: Oplog;
    clock: ClusterClock;
    lookup: DocumentLookup;
  }) {
    this.id = init.id;
    this.ns = init.ns;
    this.#spec = init.spec;
    this.#oplog = init.oplog;
    this.#clock = init.clock;
    this.#lookup = init.lookup;
    this.#userPipeline =
      init.spec.userStages.length > 0 ? compilePipeline(init.spec.userStages) : undefined;
    const start = this.#startPoint();
    this.#position = start.position;
    this.#skipThrough = start.skipThrough;
    this.#lastToken = start.skipThrough;
  }

  /** Places the cursor from resumeAfter/startAfter/startAtOperationTime, or at "now". */
  #startPoint(): { position: number; skipThrough: string } {
    const { resumeAfter, startAfter, startAtOperationTime } = this.#spec;
    const lost = this.#oplog.lostUpTo;
    const resume = resumeAfter ?? startAfter;
    if (resume) {
      if (lost && compareTimestamps(resume.ts, lost) <= 0) throw historyLost();
      if (resume.kind !== 'highWaterMark') {
        // The server insists the event itself is still there; a token for an event it never wrote is fatal.
        const eventData = tokenData(resume.ts, resume.txnOpIndex, 'event');
        const found = this.#oplog.at(this.#oplog.seqAfterToken(eventData) - 1);
        if (!found || found.token !== eventData) {
          throw new CommandError(
            'ChangeStreamFatalError',
            'cannot resume stream; the resume token was not found.',
          );
        }
      }
      // Rebuild from the token's cluster time; events up to the token itself are skipped.
      return { position: this.#oplog.seqAtOrAfter(resume.ts), skipThrough: resume.data };
    }
    if (startAtOperationTime) {
      if (lost && compareTimestamps(startAtOperationTime, lost) <= 0) throw historyLost();
      // Everything at or after the operation time is reported: skip through the instant before it.
      const t = startAtOperationTime;
      const before =
        t.low > 0
          ? new Timestamp({ t: t.high, i: t.low - 1 })
          : new Timestamp({ t: t.high - 1, i: 0xffffffff });
      return {
        position: this.#oplog.seqAtOrAfter(t),
        skipThrough: tokenData(before, 0, 'highWaterMark'),
      };
    }
    return {
      position: this.#oplog.nextSeq,
      skipThrough: tokenData(this.#clock.now(), 0, 'highWaterMark'),
    };
  }

  /** Reads what is available now without waiting (the aggregate's first batch). */
  firstBatch(batchSize: number): CursorBatch {
    return this.#read(batchSize, 'PlanExecutor error during aggregation :: caused by :: ');
  }

  async next(options: GetMoreOptions): Promise<CursorBatch> {
    const deadline =
      Date.now() +
      (options.maxTimeMS && options.maxTimeMS > 0 ? options.maxTimeMS : DEFAULT_AWAIT_MS);
    for (;;) {
      const batch = this.#read(options.batchSize, 'Executor error during getMore :: caused by :: ');
      if (batch.documents.length > 0 || batch.exhausted) return batch;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return batch;
      await this.#waitForAppend(remaining, options.signal);
      if (options.signal.aborted) throw options.signal.reason;
      if (this.#closed)
        throw new CommandError('CursorNotFound', `cursor id ${this.id.toString()} not found`);
    }
  }

  #waitForAppend(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      const unsubscribe = this.#oplog.onAppend(done);
      signal.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }

  #wake: (() => void) | undefined;

  /**
   * Builds the next batch, encoding each event as it goes: its exact size
   * decides whether it still fits the batch, and an event the server could
   * not build (over 16 MiB + 16 KiB) fails the stream with BSONObjectTooLarge,
   * as it does on a real server (the cursor is then killed by getMore).
   */
  #read(batchSize: number | undefined, errorContext: string): CursorBatch {
    this.lastUsed = Date.now();
    const limit = batchSize ?? Infinity;
    const writer = new BsonWriter();
    writer.beginDocument();
    let count = 0;
    while (count < limit && !this.#invalidated) {
      if (this.#pending.length === 0) {
        if (this.#position >= this.#oplog.nextSeq) break;
        const entry = this.#oplog.at(this.#position);
        if (!entry) throw historyLost();
        this.#position += 1;
        const built = buildEvents(entry, this.#spec, this.#lookup);
        // Only the entries around a resume point hold events that were already reported.
        this.#pending =
          built.length > 0 && (built[0] as BuiltEvent).token <= this.#skipThrough
            ? built.filter((event) => event.token > this.#skipThrough)
            : built;
        continue;
      }
      const built = this.#pending[0] as BuiltEvent;
      const output = this.#userPipeline ? this.#applyUserStages(built) : built.event;
      if (output) {
        writer.mark();
        const size = writer.field(arrayIndexKey(count), output);
        if (size > MAX_INTERNAL_DOCUMENT_BYTES)
          throw objectTooLarge(size, `_id: { _data: "${built.token}" }`, errorContext);
        if (writer.length > CHANGE_STREAM_BATCH_BYTES && count > 0) {
          writer.rollback();
          break;
        }
        count += 1;
      }
      this.#pending.shift();
      this.#lastToken = built.token;
      if (built.invalidates) this.#invalidated = true;
    }
    writer.endDocument();
    const caughtUp = this.#pending.length === 0 && this.#position >= this.#oplog.nextSeq;
    if (caughtUp && !this.#invalidated) {
      // Idle or filtered: report how far the oplog has been scanned, so clients can checkpoint.
      const highWaterMark = tokenData(this.#clock.now(), 0, 'highWaterMark');
      if (highWaterMark > this.#lastToken) this.#lastToken = highWaterMark;
    }
    const byteLength = writer.length;
    return {
      documents: new EncodedDocuments(writer.finish(), byteLength, count, writer.pooled),
      exhausted: this.#invalidated,
      postBatchResumeToken: { _data: this.#lastToken },
    };
  }

  #applyUserStages(built: BuiltEvent): Document | undefined {
    let result: Document[];
    try {
      result = (this.#userPipeline as Aggregator).run([built.event]) as Document[];
    } catch (error) {
      throw translateQueryError(error, 'pipeline');
    }
    const [output] = result;
    if (!output) return undefined;
    const id = output._id as Document | undefined;
    if (!id || id._data !== built.token) {
      throw new CommandError(
        'ChangeStreamFatalError',
        'Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it impossible to resume the stream from that point. Only transformations that retain the unmodified _id field are allowed.',
      );
    }
    return output;
  }

  close(): void {
    this.#closed = true;
    this.#pending = [];
    this.#wake?.();
  }
}

function compilePipeline(stages: Document[]): Aggregator {
  try {
    return new Aggregator(stages, { idKey: '_id' });
  } catch (error) {
    throw translateQueryError(error, 'pipeline');
  }
}

/** ChangeStreamHistoryLost (286), what the server answers when the resume point fell off the oplog. */
export function historyLost(): CommandError {
  return new CommandError(
    'ChangeStreamHistoryLost',
    `PlanExecutor error during aggregation :: caused by :: ${HISTORY_LOST_MESSAGE}`,
  );
}
