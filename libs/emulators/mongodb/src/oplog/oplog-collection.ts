import { Long, type Document } from 'bson';
import type { Oplog, OplogEntry, OplogOperation } from './oplog.ts';

/** The `op` letter the server writes for each kind of write. */
const OP_LETTER: Record<OplogOperation, string> = {
  insert: 'i',
  update: 'u',
  replace: 'u',
  delete: 'd',
  drop: 'c',
  rename: 'c',
  dropDatabase: 'c',
  create: 'c',
  createIndexes: 'c',
  dropIndexes: 'c',
  modify: 'c',
};

/**
 * The retained oplog as the documents of `local.oplog.rs`, in natural
 * (insertion) order or, with `direction` -1, newest first; at most `limit`
 * of them, read from that end only — what `rs.printReplicationInfo()` and
 * monitoring tools ask for (`find().sort({$natural: ±1}).limit(1)`) costs
 * one entry, not the whole oplog.
 *
 * The documents carry the fields tools read — `ts`, `t`, `v`, `op`, `ns`,
 * `wall`, `o` (and `o2` for updates) — not the server's exact `o` of an
 * update (an update's `o` here is its post-image) or `ui`.
 *
 * @see https://www.mongodb.com/docs/manual/core/replica-set-oplog/
 */
export function oplogDocuments(oplog: Oplog, direction: 1 | -1, limit?: number): Document[] {
  const first = oplog.firstSeq;
  const last = oplog.last?.seq;
  if (last === undefined || last < first) return [];
  const count = Math.min(limit ?? Infinity, last - first + 1);
  const docs: Document[] = [];
  for (let i = 0; i < count; i += 1) {
    const entry = oplog.at(direction === 1 ? first + i : last - i);
    if (entry) docs.push(oplogDocument(entry));
  }
  return docs;
}

function oplogDocument(entry: OplogEntry): Document {
  const op = OP_LETTER[entry.op];
  return {
    op,
    ns: op === 'c' ? `${entry.ns.db}.$cmd` : `${entry.ns.db}.${entry.ns.coll ?? ''}`,
    o: entry.postImage ?? entry.documentKey ?? {},
    ...(op === 'u' && entry.documentKey ? { o2: entry.documentKey } : {}),
    ts: entry.ts,
    t: Long.ONE,
    v: Long.fromNumber(2),
    wall: entry.wallTime,
  };
}
