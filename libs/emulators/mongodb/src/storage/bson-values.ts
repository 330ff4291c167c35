import { EJSON, ObjectId, type Document } from 'bson';
import { carryKinds } from './numeric-types.ts';

/**
 * Helpers over deserialized BSON values. Stored documents are never mutated
 * in place (change events and cursors share them), so every update first
 * takes a deep copy of plain objects and arrays; BSON value classes
 * (ObjectId, Binary, Decimal128, ...) are immutable and shared.
 */

/** True for a plain JavaScript object (not an array, Date or BSON value class). */
export function isPlainObject(value: unknown): value is Document {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deep copy of plain objects and arrays; other values are shared. */
export function cloneDocument<T>(value: T): T {
  if (Array.isArray(value)) {
    const copy = value.map((item) => cloneDocument(item));
    carryKinds(value, copy);
    return copy as T;
  }
  if (isPlainObject(value)) {
    const copy: Document = {};
    for (const key of Object.keys(value)) copy[key] = cloneDocument(value[key]);
    carryKinds(value, copy);
    return copy as T;
  }
  if (value instanceof Date) return new Date(value.getTime()) as T;
  return value;
}

/** BSON-aware deep equality (field order matters, as it does for BSON). */
export function bsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => bsonEquals(item, b[index]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keysA = Object.keys(a);
    const keysB = Object.keys(b);
    if (keysA.length !== keysB.length) return false;
    return keysA.every((key, index) => key === keysB[index] && bsonEquals(a[key], b[key]));
  }
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof ObjectId && b instanceof ObjectId) return a.equals(b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  return (
    EJSON.stringify(a as Document, { relaxed: false }) ===
    EJSON.stringify(b as Document, { relaxed: false })
  );
}

/**
 * A string key for an `_id` value, used to index documents in a Map. Equal
 * BSON values give equal keys (numbers are promoted, so 1 and 1.0 collide as
 * they do in the server's _id index).
 */
export function idKey(id: unknown): string {
  if (typeof id === 'string') return `s${id}`;
  if (typeof id === 'number') return `n${Object.is(id, -0) ? 0 : id}`;
  if (id instanceof ObjectId) return `o${id.toHexString()}`;
  if (id === null || id === undefined) return 'z';
  return `e${EJSON.stringify({ v: id } as Document, { relaxed: false })}`;
}
