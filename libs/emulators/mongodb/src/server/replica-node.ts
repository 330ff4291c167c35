import { Binary, Long, ObjectId, type Document } from 'bson';
import { createHash } from 'node:crypto';
import { CommandError } from '../errors/command-error.ts';
import { CursorRegistry } from '../cursors/cursor-registry.ts';
import { FailPoints } from '../faults/fail-point.ts';
import { ClusterClock } from '../oplog/cluster-clock.ts';
import { createEntry } from '../oplog/ddl-entries.ts';
import { Oplog, type OplogLimits, type OplogWrite } from '../oplog/oplog.ts';
import { Catalog } from '../storage/catalog.ts';
import { CollectionData } from '../storage/collection-data.ts';
import { idKey } from '../storage/bson-values.ts';
import type { WriteScope } from '../storage/write-scope.ts';
import type { StateChange } from './state-change.ts';
import { SessionStore, type SessionLimits } from '../transactions/session-store.ts';
import { TtlMonitor } from '../storage/ttl-monitor.ts';
import { DocumentLocks } from '../transactions/document-locks.ts';
import { documentLockKey, type Transaction } from '../transactions/transaction.ts';

/** A client connection as the node sees it, so step-down can close them all. */
export interface ClientConnection {
  readonly id: number;
  /** Closes the socket and aborts whatever it is waiting on. */
  destroy(): void;
  /** Fails the command in progress (if any) with `reason`. */
  abortInFlight(reason: Error): void;
}

/** Limits of the node's bounded resources. */
export interface ReplicaNodeOptions {
  oplog: OplogLimits;
  sessions: SessionLimits;
  /** Idle cursors are closed after this long. */
  cursorTimeoutMs: number;
  /** How often TTL indexes' expired documents are deleted. */
  ttlMonitorIntervalMs: number;
}

/**
 * The state of the single replica-set member: data, oplog, clock, cursors,
 * sessions, fail points and topology. Commands operate on it; the network
 * layer only moves bytes.
 */
export class ReplicaNode {
  readonly catalog = new Catalog();
  readonly oplog: Oplog;
  readonly clock = new ClusterClock();
  readonly cursors: CursorRegistry;
  readonly sessions: SessionStore;
  readonly failPoints = new FailPoints();
  /** Documents open transactions have written (first writer wins). */
  readonly locks = new DocumentLocks();
  readonly connections = new Set<ClientConnection>();
  /** `topologyVersion.processId`: new for every start, as a restarted mongod's is. */
  readonly processId = new ObjectId();
  topologyCounter = 0;
  /** `host:port` the node advertises in hello (`me`, `hosts`, `primary`). */
  hostAndPort = '';
  readonly startedAt = new Date();
  /**
   * Resolves once the topology counter differs from `known` (at once if it
   * already does), after `ms`, or when `signal` aborts, whichever is first:
   * the wait of an awaitable hello.
   */
  awaitTopologyChange(known: number, ms: number, signal: AbortSignal): Promise<void> {
    if (known !== this.topologyCounter || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.topologyWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.topologyWaiters.add(done);
    });
  }

  /**
   * Called after every change of persisted state, in order (persistence
   * journals it). Oplog appends and the catalog's collection changes are the
   * only ways state changes, so nothing escapes it.
   */
  onChange: (change: StateChange) => void = () => undefined;
  /**
   * A promise that settles once every change so far is durable, or
   * undefined when nothing is waiting (always, without a data directory).
   * Replies wait for it: what a client was told happened survives a crash.
   */
  whenDurable: () => Promise<void> | undefined = () => undefined;
  /** Awaitable hellos waiting for a topology change. */
  readonly topologyWaiters = new Set<() => void>();
  /** Pending step-down disconnect timer, cleared on stop. */
  #stepDownTimer: NodeJS.Timeout | undefined;

  constructor(options: ReplicaNodeOptions) {
    this.oplog = new Oplog(options.oplog);
    this.sessions = new SessionStore(this.catalog, this.locks, options.sessions);
    this.cursors = new CursorRegistry(options.cursorTimeoutMs);
    this.#ttlMonitor = new TtlMonitor(this.catalog, this.direct, options.ttlMonitorIntervalMs);
    this.catalog.onCreate = (db, coll, collection) =>
      this.appendWrites([createEntry({ db, coll }, collection)]);
    this.catalog.onCollectionChange = (db, coll, collection) =>
      this.onChange({
        kind: 'collection',
        db,
        coll,
        uuid: collection.uuid,
        options: collection.options,
        indexes: collection.indexes,
      });
  }

  readonly #ttlMonitor: TtlMonitor;

  /** A scope that writes straight into the catalog, one oplog entry per write. */
  readonly direct: WriteScope = {
    read: (db, coll) => this.catalog.get(db, coll),
    write: (db, coll, options) => this.catalog.ensure(db, coll, options).collection,
    claim: (db, coll, ids) =>
      this.locks.claimOutsideTransaction(ids.map((id) => documentLockKey(db, coll, id))),
    record: (write) => {
      if (write.documentKey)
        this.locks.written([
          documentLockKey(write.ns.db, write.ns.coll as string, write.documentKey._id),
        ]);
      this.appendWrites([write]);
    },
  };

  /** Appends writes under one new cluster time and notifies listeners. */
  appendWrites(writes: OplogWrite[]): void {
    if (writes.length === 0) return;
    const entries = this.oplog.append(this.clock.tick(), writes);
    this.onChange({ kind: 'oplog', entries });
  }

  /** The current version of a document, for `fullDocument: 'updateLookup'`. */
  lookup = (db: string, coll: string, documentKey: Document): Document | null => {
    return this.catalog.get(db, coll)?.get(documentKey._id) ?? null;
  };

  /**
   * Makes a transaction's writes visible and appends its oplog entries under
   * one cluster time. Conflicts were settled at each write (DocumentLocks):
   * nothing another writer did can be in the way here.
   */
  commit(transaction: Transaction): void {
    // Collections it created join the catalog; their create (and createIndexes) entries are
    // among its writes, so the journal keeps them in the transaction's one record.
    for (const { db, coll, data } of transaction.createdCollections()) {
      if (this.catalog.get(db, coll)) continue;
      const { uuid, options, indexes } = data;
      this.catalog.put(db, coll, new CollectionData({ uuid, options, indexes }));
    }
    const keys = new Set<string>();
    for (const write of transaction.writes) {
      if (!write.documentKey) continue; // a catalog change, applied above
      const coll = write.ns.coll as string;
      const collection = this.catalog.ensure(write.ns.db, coll).collection;
      const key = idKey(write.documentKey._id);
      if (write.op === 'delete') collection.docs.delete(key);
      else if (write.postImage) collection.docs.set(key, write.postImage);
      keys.add(documentLockKey(write.ns.db, coll, write.documentKey._id));
    }
    this.locks.written(keys);
    const lsid = { id: transaction.lsid.id, uid: ANONYMOUS_UID };
    const txnNumber = Long.fromNumber(transaction.txnNumber);
    this.appendWrites(transaction.writes.map((write) => ({ ...write, lsid, txnNumber })));
    transaction.committed();
  }

  /** Drops a view: its definition goes, with no oplog entry (it holds no documents). */
  dropView(db: string, coll: string): void {
    if (this.catalog.remove(db, coll)) this.onChange({ kind: 'removed', db, coll });
  }

  /** Drops a collection, recording the `drop` event; false when it did not exist. */
  dropCollection(db: string, coll: string): boolean {
    const collection = this.catalog.get(db, coll);
    if (!collection || !this.catalog.remove(db, coll)) return false;
    this.appendWrites([
      { op: 'drop', ns: { db, coll }, collectionUUID: collection.uuid, imagesRecorded: false },
    ]);
    return true;
  }

  /** Drops a database: one `drop` per collection, then `dropDatabase`, as the server logs it. */
  dropDatabase(db: string): void {
    for (const coll of this.catalog.collectionNames(db)) this.dropCollection(db, coll);
    this.appendWrites([{ op: 'dropDatabase', ns: { db }, imagesRecorded: false }]);
  }

  /** Renames a collection (optionally replacing the target). */
  rename(
    from: { db: string; coll: string },
    to: { db: string; coll: string },
    dropTarget: boolean,
  ): void {
    const source = this.catalog.get(from.db, from.coll);
    if (!source)
      throw new CommandError(
        'NamespaceNotFound',
        `Source collection ${from.db}.${from.coll} does not exist`,
      );
    const target = this.catalog.get(to.db, to.coll);
    if (target) {
      if (!dropTarget) throw new CommandError('NamespaceExists', 'target namespace exists');
      this.dropCollection(to.db, to.coll);
    }
    this.catalog.remove(from.db, from.coll);
    this.catalog.put(to.db, to.coll, source);
    this.appendWrites([
      {
        op: 'rename',
        ns: from,
        to,
        collectionUUID: source.uuid,
        // The server's rename entry names the collection it replaced by its uuid.
        operationDescription: { to, ...(target ? { dropTarget: target.uuid } : {}) },
        imagesRecorded: false,
      },
    ]);
  }

  /**
   * Simulates losing the primary role: the topology version moves on,
   * operations in flight fail with NotWritablePrimary (as they do when a real
   * primary steps down), then every connection is closed so drivers
   * rediscover the primary and resume.
   */
  stepDown(): void {
    for (const waiter of [...this.topologyWaiters]) waiter();
    const reason = new CommandError(
      'NotWritablePrimary',
      'operation was interrupted because the node stepped down',
    );
    for (const connection of this.connections) connection.abortInFlight(reason);
    clearTimeout(this.#stepDownTimer);
    // Give the error replies a moment to reach the clients before the sockets close.
    this.#stepDownTimer = setTimeout(() => {
      for (const connection of [...this.connections]) connection.destroy();
    }, 50);
    this.#stepDownTimer.unref();
  }

  /** Stops timers and closes cursors and sessions (part of the emulator's shutdown). */
  close(): void {
    clearTimeout(this.#stepDownTimer);
    this.#ttlMonitor.close();
    this.cursors.closeAll();
    this.sessions.close();
  }

  /** `$clusterTime` gossip: an unsigned cluster time, as a server without auth keys sends. */
  clusterTimeDocument(): Document {
    return { clusterTime: this.clock.now(), signature: { hash: ZERO_HASH, keyId: Long.ZERO } };
  }
}

const ZERO_HASH = new Binary(Buffer.alloc(20), 0);
/** The `lsid.uid` the server reports for an unauthenticated user: SHA-256 of the empty user name. */
export const ANONYMOUS_UID = new Binary(createHash('sha256').update('').digest(), 0);
