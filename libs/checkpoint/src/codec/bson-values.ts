import { Double, Int32, Long, Timestamp, type Document } from 'bson';

/**
 * Readers for the scalar shapes canonical Extended JSON parses into: in
 * canonical mode every number comes back as a BSON wrapper (`Int32`,
 * `Double`, `Long`), which keeps resume tokens exact but must be unwrapped
 * for our own numeric fields. Each returns `undefined` for a wrong shape.
 */

export function asSafeInteger(value: unknown): number | undefined {
  let number: number | undefined;
  if (typeof value === 'number') number = value;
  else if (value instanceof Int32 || value instanceof Double) number = value.valueOf();
  else if (value instanceof Long) number = value.toNumber();
  return number !== undefined && Number.isSafeInteger(number) ? number : undefined;
}

export function asDate(value: unknown): Date | undefined {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value : undefined;
}

export function asTimestamp(value: unknown): Timestamp | undefined {
  return value instanceof Timestamp ? value : undefined;
}

export function asDocument(value: unknown): Document | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Document)
    : undefined;
}
