import type { Document } from 'bson';
import { isPlainObject } from './bson-values.ts';
import type { Catalog } from './catalog.ts';
import { findDocuments } from '../query/query-engine.ts';
import { isBlockedByTransaction } from '../transactions/document-locks.ts';
import { deleteDocuments, type Namespace } from './document-writes.ts';
import type { WriteScope } from './write-scope.ts';

/** How often the server's TTL monitor runs by default (ttlMonitorSleepSecs, 60 s). */
export const DEFAULT_TTL_MONITOR_INTERVAL_MS = 60_000;

/**
 * The TTL monitor: every interval, deletes the documents whose indexed date
 * (the earliest, for an array) is older than their TTL index's
 * `expireAfterSeconds`. The deletes are ordinary ones, so change streams see
 * them, as they see the server's. Values that are not dates never expire;
 * a partial TTL index expires only documents its `partialFilterExpression`
 * matches.
 * https://www.mongodb.com/docs/manual/core/index-ttl/
 */
export class TtlMonitor {
  readonly #timer: NodeJS.Timeout;
  readonly #catalog: Catalog;
  readonly #scope: WriteScope;

  constructor(catalog: Catalog, scope: WriteScope, intervalMs: number) {
    this.#catalog = catalog;
    this.#scope = scope;
    this.#timer = setInterval(() => this.#sweepLogged(), intervalMs);
    // The monitor must never keep a test process or the CLI alive on its own.
    this.#timer.unref();
  }

  /** Deletes every expired document now. */
  sweep(now = Date.now()): void {
    for (const [db, collections] of [...this.#catalog.databases]) {
      for (const [coll, collection] of [...collections]) {
        for (const index of collection.indexes) {
          const field = ttlField(index);
          if (field === undefined) continue;
          const cutoff = new Date(now - (index.expireAfterSeconds as number) * 1000);
          const expired: Document = { [field]: { $lt: cutoff } };
          // A partial TTL index holds, and so expires, only the documents its filter matches.
          const filter = isPlainObject(index.partialFilterExpression)
            ? { $and: [expired, index.partialFilterExpression] }
            : expired;
          const ids = findDocuments(collection.candidates(filter), { filter }).map(
            (doc) => doc._id,
          );
          for (const _id of ids) this.#expire({ db, coll }, _id);
        }
      }
    }
  }

  /**
   * Deletes one expired document. One an open transaction holds is left for
   * a later pass (the monitor never waits), and the rest of this pass goes on.
   */
  #expire(ns: Namespace, _id: unknown): void {
    try {
      deleteDocuments(this.#scope, ns, { _id }, 1);
    } catch (error) {
      if (!isBlockedByTransaction(error)) throw error;
    }
  }

  #sweepLogged(): void {
    try {
      this.sweep();
    } catch (error) {
      // A failed pass is retried at the next interval, as the server's monitor does.
      console.error('[emulator-mongodb] TTL monitor pass failed:', error);
    }
  }

  /** Stops the monitor (part of the emulator's shutdown). */
  close(): void {
    clearInterval(this.#timer);
  }
}

/** The field a TTL index expires documents by: single-field indexes only, as on the server. */
function ttlField(index: Document): string | undefined {
  const seconds: unknown = index.expireAfterSeconds;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || !isPlainObject(index.key))
    return undefined;
  const fields = Object.keys(index.key);
  return fields.length === 1 ? fields[0] : undefined;
}
