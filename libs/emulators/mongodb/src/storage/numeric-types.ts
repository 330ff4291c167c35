import { Double, Int32, Long, Timestamp, type Document } from 'bson';

/**
 * Keeps the BSON numeric type of values whose JavaScript number would
 * serialise as a different type. Documents are held with plain JS numbers so
 * mingo can query and update them; a small int64 (`Long(5)`) or a whole
 * double (`Double(1)`) would then come back as int32. Their original type is
 * remembered per container (object or array) and field, and restored when
 * documents leave the emulator (replies, the oplog record, the data directory).
 * Containers holding such a value, directly or deeper, are flagged so
 * documents without any pay nothing.
 */
export type NumericKind = 'long' | 'double';

const kinds = new WeakMap<object, Map<string, NumericKind>>();
const flagged = new WeakSet<object>();
const MAX_SAFE = Long.fromNumber(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = Long.fromNumber(Number.MIN_SAFE_INTEGER);

function isContainer(value: unknown): value is Document {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Whether a JS number would serialise as a BSON int32. */
function looksLikeInt32(value: number): boolean {
  return (
    Number.isInteger(value) && value >= -2147483648 && value <= 2147483647 && !Object.is(value, -0)
  );
}

/** Records the kind of `container[key]` (and flags the container). */
export function setKind(container: object, key: string, kind: NumericKind | undefined): void {
  let map = kinds.get(container);
  if (kind === undefined) {
    map?.delete(key);
    return;
  }
  if (!map) {
    map = new Map();
    kinds.set(container, map);
  }
  map.set(key, kind);
  flagged.add(container);
}

/** The remembered kind of `container[key]`, if any. */
export function kindOf(container: object, key: string): NumericKind | undefined {
  return kinds.get(container)?.get(key);
}

/** True when the container (or something inside it) holds a remembered numeric type. */
export function hasNumericTypes(value: unknown): boolean {
  return typeof value === 'object' && value !== null && flagged.has(value);
}

/** Flags `container` as holding typed numbers somewhere inside. */
export function flag(container: object): void {
  flagged.add(container);
}

/**
 * Converts a document decoded with `promoteValues: false` to plain JS numbers
 * in place, remembering the kinds that would not survive. Returns true when
 * anything was remembered.
 */
export function promoteNumbers(container: Document): boolean {
  let typed = false;
  for (const key of Object.keys(container)) {
    const value = container[key];
    if (value instanceof Int32) {
      container[key] = value.value;
    } else if (value instanceof Double) {
      container[key] = value.value;
      if (looksLikeInt32(value.value)) {
        setKind(container, key, 'double');
        typed = true;
      }
    } else if (value instanceof Long && !(value instanceof Timestamp)) {
      // A Timestamp is a Long to the bson library, but it must stay a Timestamp.
      if (value.lessThanOrEqual(MAX_SAFE) && value.greaterThanOrEqual(MIN_SAFE)) {
        container[key] = value.toNumber();
        setKind(container, key, 'long');
        typed = true;
      }
    } else if (isContainer(value) && promoteNumbers(value)) {
      typed = true;
    }
  }
  if (typed) flagged.add(container);
  return typed;
}

/** Wraps one value according to a remembered kind (only numbers are wrapped). */
function wrap(value: unknown, kind: NumericKind | undefined): unknown {
  if (kind === undefined || typeof value !== 'number') return value;
  return kind === 'long' && Number.isInteger(value) ? Long.fromNumber(value) : new Double(value);
}

/** A copy with remembered types restored as BSON wrappers; unflagged values are returned as they are. */
export function withNumericTypes<T>(value: T): T {
  if (!isContainer(value) || !flagged.has(value)) return value;
  const map = kinds.get(value);
  if (Array.isArray(value)) {
    return value.map((item, index) => wrap(withNumericTypes(item), map?.get(String(index)))) as T;
  }
  const copy: Document = {};
  for (const key of Object.keys(value))
    copy[key] = wrap(withNumericTypes((value as Document)[key]), map?.get(key));
  return copy as T;
}

/** Gives `to` the remembered kinds of `from` (a copy of the same container). */
export function carryKinds(from: object, to: object): void {
  const map = kinds.get(from);
  if (map) kinds.set(to, new Map(map));
  if (flagged.has(from)) flagged.add(to);
}

/** Sets `to[toKey]`'s kind from `from[fromKey]`, for values moved between containers. */
export function copyKind(from: object, fromKey: string, to: object, toKey: string): void {
  const kind = kindOf(from, fromKey);
  if (kind !== undefined) setKind(to, toKey, kind);
  if (hasNumericTypes((from as Document)[fromKey])) flagged.add(to);
}

function resolveParent(
  doc: Document,
  path: string,
): { container: Document; key: string; ancestors: object[] } | undefined {
  const parts = path.split('.');
  const ancestors: object[] = [];
  let container: unknown = doc;
  for (const part of parts.slice(0, -1)) {
    if (!isContainer(container)) return undefined;
    ancestors.push(container);
    container = container[part];
  }
  if (!isContainer(container)) return undefined;
  return { container, key: parts[parts.length - 1] as string, ancestors };
}

/**
 * After update operators ran, gives the fields they wrote the type the server
 * would store: `$set` takes the operand's type; `$inc`/`$mul` widen like the
 * server (anything with a double is a double, else anything with an int64 is
 * an int64). Positional paths and array operators are not tracked.
 */
export function applyModifierKinds(doc: Document, update: Document, isInsert: boolean): void {
  for (const [operator, spec] of Object.entries(update)) {
    if (!isContainer(spec)) continue;
    const setLike =
      operator === '$set' ||
      operator === '$min' ||
      operator === '$max' ||
      (operator === '$setOnInsert' && isInsert);
    const arithmetic = operator === '$inc' || operator === '$mul';
    if (!setLike && !arithmetic) continue;
    for (const path of Object.keys(spec)) {
      if (path.includes('$')) continue;
      const target = resolveParent(doc, path);
      if (!target) continue;
      const operand = kindOf(spec, path);
      const existing = kindOf(target.container, target.key);
      let kind: NumericKind | undefined;
      if (arithmetic) {
        kind =
          existing === 'double' || operand === 'double'
            ? 'double'
            : existing === 'long' || operand === 'long'
              ? 'long'
              : undefined;
      } else if (
        operator === '$set' ||
        operator === '$setOnInsert' ||
        target.container[target.key] === spec[path]
      ) {
        kind = operand;
      } else {
        kind = existing; // $min/$max that kept the old value keep its type
      }
      setKind(target.container, target.key, kind);
      if (kind !== undefined || hasNumericTypes(spec[path])) {
        flagged.add(target.container);
        for (const ancestor of target.ancestors) flagged.add(ancestor);
      }
    }
  }
}
