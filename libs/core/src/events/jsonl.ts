import { EJSON, Long, type Document } from 'bson';
import type { CapturedEvent } from './change-batch.ts';

/** MongoDB Extended JSON mode of each line. */
export type JsonFormat = 'relaxed' | 'canonical';

/**
 * Relaxed Extended JSON writes an Int64 as a plain number, which loses
 * digits beyond 2^53. Those values are written in canonical form instead
 * (`{"$numberLong": "…"}`, which every Extended JSON reader accepts), so no
 * number in the lake is ever rounded.
 */
function keepLongsExact(value: unknown): unknown {
  // `_bsontype`, not instanceof: a BSON Timestamp is a subclass of Long.
  if (value instanceof Long && value._bsontype === 'Long') {
    return value.lessThanOrEqual(Number.MAX_SAFE_INTEGER) &&
      value.greaterThanOrEqual(Number.MIN_SAFE_INTEGER)
      ? value
      : { $numberLong: value.toString() };
  }
  if (Array.isArray(value)) return value.map(keepLongsExact);
  if (
    value !== null &&
    typeof value === 'object' &&
    !('_bsontype' in value) &&
    !(value instanceof Date) &&
    !ArrayBuffer.isView(value)
  ) {
    const out: Document = {};
    for (const [k, v] of Object.entries(value)) out[k] = keepLongsExact(v);
    return out;
  }
  return value;
}

/** The `_tributary` object every line carries. */
export interface LineMetadata {
  readonly key: string;
  readonly partition: number;
  readonly capturedAt: Date;
}

/**
 * One JSONL line: the change event's own fields, and `_tributary` with the
 * ordering key, the resume token, the partition and the capture time — so
 * any reader can order and deduplicate across partitions.
 */
export function encodeLine(captured: CapturedEvent, partition: number, format: JsonFormat): string {
  const line = {
    ...captured.event,
    _tributary: {
      key: captured.key,
      resumeToken: captured.event._id,
      partition,
      capturedAt: captured.capturedAt,
    },
  };
  const relaxed = format === 'relaxed';
  return `${EJSON.stringify(relaxed ? keepLongsExact(line) : line, { relaxed })}\n`;
}

/** A line read back: the change event's fields and `_tributary`. */
export type DecodedLine = Document & { _tributary: LineMetadata & { resumeToken: Document } };

/**
 * Reads one line back. Canonical parsing, so BSON types come back as they
 * were; `_tributary.partition` is a plain number, as {@link LineMetadata} says.
 */
export function decodeLine(line: string): DecodedLine {
  const doc = EJSON.parse(line, { relaxed: false }) as DecodedLine;
  return { ...doc, _tributary: { ...doc._tributary, partition: Number(doc._tributary.partition) } };
}
