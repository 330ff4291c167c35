import { partitionOf } from '@tributary/core';
import type { MongoClient } from 'mongodb';
import { typedDocument } from '../mixed-load.ts';

/**
 * What the chaos load writes to: six collections in three databases, chosen
 * so that, routed by namespace over 8 partitions, they land on six
 * different partitions (and two partitions carry only heartbeats) — faults
 * aimed at "a partition with data" then hit different writers.
 */
export const CHAOS_NAMESPACES = [
  ['shop', 'orders'],
  ['shop', 'customers'],
  ['shop', 'refunds'],
  ['crm', 'contacts'],
  ['crm', 'leads'],
  ['audit', 'logins'],
] as const;

/** Every how many steps a multi-document transaction across two databases commits. */
const TRANSACTION_EVERY = 6;

/** The partitions the load's namespaces route to, ascending. */
export function dataPartitions(partitionCount: number): number[] {
  const partitions = CHAOS_NAMESPACES.map(([db, coll]) =>
    partitionOf({ ns: { db, coll } }, partitionCount, 'namespace'),
  );
  return [...new Set(partitions)].sort((a, b) => a - b);
}

/**
 * A steady mixed load that runs until stopped: step after step, one
 * namespace at a time in turn, inserts, updates, a replace and a delete;
 * every few steps a transaction over two databases. A pause between steps
 * keeps the rate steady whatever the faults do to the pipeline (the load
 * only talks to MongoDB). The emulator's oplog, not this class, is the
 * record the lake is checked against.
 */
export class ChaosWorkload {
  /** Settles when the load stopped; rejects if an operation failed. */
  readonly done: Promise<void>;
  readonly #abort = new AbortController();
  #steps = 0;
  #transactions = 0;
  #failure: unknown;

  constructor(client: MongoClient, options: { pauseMs: number }) {
    this.done = this.#run(client, options.pauseMs);
    this.done.catch((error: unknown) => (this.#failure = error ?? new Error('the load failed')));
  }

  /** Why the load stopped on its own, if it did: the run is then no test of the pipeline. */
  get failure(): unknown {
    return this.#failure;
  }

  /** Steps finished so far. */
  get steps(): number {
    return this.#steps;
  }

  /** Transactions committed so far. */
  get transactions(): number {
    return this.#transactions;
  }

  /** Stops after the step in hand; resolves when it is over, whatever its outcome. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled([this.done]);
  }

  async #run(client: MongoClient, pauseMs: number): Promise<void> {
    for (let step = 0; !this.#abort.signal.aborted; step += 1) {
      const [db, coll] = CHAOS_NAMESPACES[step % CHAOS_NAMESPACES.length] as readonly [
        string,
        string,
      ];
      const collection = client.db(db).collection(coll);
      const docs = Array.from({ length: 4 }, (_, i) => typedDocument(step, i));
      await collection.insertMany(docs);
      await collection.updateMany(
        { round: step, index: { $lt: 2 } },
        { $set: { touched: true }, $inc: { index: 100 } },
      );
      const [first, second] = docs;
      if (first)
        await collection.replaceOne(
          { _id: first._id },
          { ...typedDocument(step, 99), _id: first._id },
        );
      if (second) await collection.deleteOne({ _id: second._id });
      if (step % TRANSACTION_EVERY === TRANSACTION_EVERY - 1) await this.#transaction(client, step);
      this.#steps = step + 1;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  async #transaction(client: MongoClient, step: number): Promise<void> {
    const session = client.startSession();
    try {
      await session.withTransaction(async () => {
        await client
          .db('shop')
          .collection('orders')
          .insertOne(typedDocument(step, 500), { session });
        await client
          .db('crm')
          .collection('contacts')
          .insertOne(typedDocument(step, 501), { session });
        await client
          .db('audit')
          .collection('logins')
          .updateMany({ round: step }, { $set: { inTxn: true } }, { session });
      });
      this.#transactions += 1;
    } finally {
      await session.endSession();
    }
  }
}
