import { createHash } from 'node:crypto';
import { EJSON, type Long } from 'bson';

/**
 * A document's identity within its collection: its `_id` as relaxed
 * Extended JSON in {@link comparable} form, so the `_id` the driver returns
 * and the one read back from a line (relaxed or canonical) give the same
 * text, and `1` and `"1"` stay apart as MongoDB keeps them.
 */
export function documentIdKey(id: unknown): string {
  return EJSON.stringify(comparable(id) as never, { relaxed: true });
}

/** The `_id` a {@link documentIdKey} was made from, as the driver would return it. */
export function documentIdOfKey(idKey: string): unknown {
  return EJSON.parse(idKey, { relaxed: true });
}

/** A {@link documentIdKey} for people: it is the `_id` as relaxed Extended JSON already. */
export function formatDocumentId(idKey: string): string {
  return idKey;
}

/**
 * A digest of a document's content (fields in order, values by type): equal
 * for the document MongoDB returns and the same document written to a line
 * and read back, whichever Extended JSON mode the line used.
 */
export function fingerprint(document: unknown): string {
  const text = EJSON.stringify(comparable(document) as never, { relaxed: true });
  return createHash('sha256').update(text).digest('base64url').slice(0, 27);
}

/**
 * A value with its numbers in one form. Relaxed lines write every number
 * as a JSON number, so an Int32 and a Double of equal value read back
 * alike, and so does the driver, which returns both as JS numbers: numbers
 * compare by value. An Int64 beyond 2^53 is written exactly
 * (`{"$numberLong": …}`) by the lines and returned as a Long by the
 * driver: it compares by its digits.
 */
function comparable(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const bsonType = (value as { _bsontype?: unknown })._bsontype;
  if (bsonType === 'Int32' || bsonType === 'Double') return (value as { value: number }).value;
  // `_bsontype`, not instanceof: a BSON Timestamp is a subclass of Long.
  if (bsonType === 'Long') {
    const long = value as Long;
    const safe =
      long.lessThanOrEqual(Number.MAX_SAFE_INTEGER) &&
      long.greaterThanOrEqual(Number.MIN_SAFE_INTEGER);
    return safe ? long.toNumber() : { $numberLong: long.toString() };
  }
  if (bsonType !== undefined || value instanceof Date || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map(comparable);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = comparable(v);
  return out;
}
