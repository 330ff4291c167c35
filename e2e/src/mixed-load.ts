import { Binary, Decimal128, Long, ObjectId, Timestamp } from 'bson';
import type { MongoClient } from 'mongodb';

/** The namespaces the load touches: three collections in two databases. */
export const NAMESPACES = [
  ['shop', 'orders'],
  ['shop', 'customers'],
  ['crm', 'contacts'],
] as const;

/** A document that carries the BSON types that must survive the lake. */
export function typedDocument(round: number, index: number) {
  return {
    _id: new ObjectId(),
    round,
    index,
    price: Decimal128.fromString(`${round}.${String(index).padStart(2, '0')}`),
    big: Long.fromString('9007199254740993'),
    at: new Date(Date.UTC(2026, 0, 1) + round * 1000 + index),
    raw: new Binary(Buffer.from([round % 256, index % 256, 0, 255]), 0),
    stamp: new Timestamp({ t: 1_700_000_000 + round, i: index + 1 }),
    tags: ['a', 'b'],
  };
}

/**
 * Inserts, updates, replaces and deletes across the three collections, and
 * commits a multi-document transaction every fifth round. Calls `progress`
 * after each round. Returns the change events it caused, counted from the
 * driver's own results (inserted, modified, deleted) — an independent
 * record when the source is not the emulator.
 */
export async function runMixedLoad(
  client: MongoClient,
  options: {
    rounds: number;
    firstRound?: number;
    perRound?: number;
    progress?: (round: number) => void;
    signal?: AbortSignal;
  },
): Promise<number> {
  const perRound = options.perRound ?? 10;
  const first = options.firstRound ?? 0;
  let events = 0;
  for (let round = first; round < first + options.rounds && !options.signal?.aborted; round += 1) {
    for (const [db, coll] of NAMESPACES) {
      const collection = client.db(db).collection(coll);
      const docs = Array.from({ length: perRound }, (_, i) => typedDocument(round, i));
      events += (await collection.insertMany(docs)).insertedCount;
      events += (
        await collection.updateMany(
          { round, index: { $lt: 3 } },
          { $set: { touched: true }, $inc: { index: 100 } },
        )
      ).modifiedCount;
      const [firstDoc, second] = docs;
      if (firstDoc) {
        const replacement = { ...typedDocument(round, 99), _id: firstDoc._id };
        events += (await collection.replaceOne({ _id: firstDoc._id }, replacement)).modifiedCount;
      }
      if (second) events += (await collection.deleteOne({ _id: second._id })).deletedCount;
    }
    if (round % 5 === 4) {
      const session = client.startSession();
      // withTransaction may run the callback more than once; only the attempt
      // that commits counts, so the count is reset on each attempt.
      let inTransaction = 0;
      try {
        await session.withTransaction(async () => {
          const orders = client.db('shop').collection('orders');
          await orders.insertOne(typedDocument(round, 500), { session });
          await client
            .db('crm')
            .collection('contacts')
            .insertOne(typedDocument(round, 501), { session });
          const customers = client.db('shop').collection('customers');
          const updated = await customers.updateMany(
            { round },
            { $set: { inTxn: true } },
            { session },
          );
          inTransaction = 2 + updated.modifiedCount;
        });
      } finally {
        await session.endSession();
      }
      events += inTransaction;
    }
    options.progress?.(round);
  }
  return events;
}
