import { crc32 } from 'node:zlib';
import type { JournalRecord } from '../broker/journal-port.ts';

/**
 * One journal record on disk:
 *
 * ```
 * u32 body length | u32 CRC-32 of body | body
 * body = u32 header length | header (JSON) | binary fields, back to back
 * ```
 *
 * Binary fields (message bytes, session state) are replaced in the JSON by
 * `{"$bin": <length>}` and follow it in order. A record cut short by a crash,
 * or whose checksum fails, ends the journal there: it and anything after it
 * were never acknowledged to a client.
 */

const BIN = '$bin';
/** Largest body accepted when reading (a 100 MiB message plus room). */
export const MAX_RECORD_BYTES = 128 * 1024 * 1024;

/**
 * A copy of `value` with every Buffer replaced by `{"$bin": length}` (the
 * bytes go to `blobs`, in order) and Infinity by `{"$inf": true}`. Done by
 * hand because `JSON.stringify` would first turn each Buffer into an array
 * of numbers, which at a kilobyte per message costs more than everything else.
 */
function extractBlobs(value: unknown, blobs: Buffer[]): unknown {
  if (Buffer.isBuffer(value)) {
    blobs.push(value);
    return { [BIN]: value.length };
  }
  if (value === Infinity) return { $inf: true };
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => extractBlobs(v, blobs));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = extractBlobs(v, blobs);
  return out;
}

/** A record's bytes. */
export function encodeRecord(record: JournalRecord): Buffer {
  const blobs: Buffer[] = [];
  const header = JSON.stringify(extractBlobs(record, blobs));
  const headerBytes = Buffer.from(header, 'utf8');
  let blobBytes = 0;
  for (const b of blobs) blobBytes += b.length;
  const bodyLength = 4 + headerBytes.length + blobBytes;
  const out = Buffer.allocUnsafe(8 + bodyLength);
  out.writeUInt32BE(bodyLength, 0);
  out.writeUInt32BE(headerBytes.length, 8);
  headerBytes.copy(out, 12);
  let at = 12 + headerBytes.length;
  for (const b of blobs) {
    b.copy(out, at);
    at += b.length;
  }
  out.writeUInt32BE(crc32(out.subarray(8)), 4);
  return out;
}

/** The records in `bytes`, up to the first torn or corrupt one, and where the good part ends. */
export function decodeRecords(bytes: Buffer): { records: JournalRecord[]; validLength: number } {
  const records: JournalRecord[] = [];
  let at = 0;
  while (at + 8 <= bytes.length) {
    const bodyLength = bytes.readUInt32BE(at);
    if (bodyLength < 4 || bodyLength > MAX_RECORD_BYTES || at + 8 + bodyLength > bytes.length)
      break;
    const body = bytes.subarray(at + 8, at + 8 + bodyLength);
    if (crc32(body) !== bytes.readUInt32BE(at + 4)) break;
    const record = decodeBody(body);
    if (!record) break;
    records.push(record);
    at += 8 + bodyLength;
  }
  return { records, validLength: at };
}

function decodeBody(body: Buffer): JournalRecord | undefined {
  const headerLength = body.readUInt32BE(0);
  if (4 + headerLength > body.length) return undefined;
  let blobAt = 4 + headerLength;
  let bad = false;
  let record: unknown;
  try {
    record = JSON.parse(body.toString('utf8', 4, 4 + headerLength), (_key, value: unknown) => {
      if (typeof value === 'object' && value !== null) {
        if ((value as { $inf?: boolean }).$inf === true) return Infinity;
        const length = (value as Record<string, unknown>)[BIN];
        if (typeof length === 'number') {
          if (blobAt + length > body.length) bad = true;
          const blob = body.subarray(blobAt, blobAt + length);
          blobAt += length;
          // JSON.parse revives inner values first, which is the order they were written in.
          return Buffer.from(blob);
        }
      }
      return value;
    });
  } catch {
    return undefined;
  }
  if (
    bad ||
    typeof record !== 'object' ||
    record === null ||
    typeof (record as { kind?: unknown }).kind !== 'string'
  )
    return undefined;
  return record as JournalRecord;
}
