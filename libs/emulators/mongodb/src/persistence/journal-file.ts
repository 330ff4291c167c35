import { open, readdir, readFile, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * Journal files are `journal.<generation>`; a checkpoint names the first
 * generation it does not contain. Each record is framed as
 * `[u32 LE payload length][u32 LE CRC-32 of the payload][payload]`, so a
 * record torn by a crash (short, or with a wrong checksum) is recognised
 * and discarded: its writer was never told it was durable. A payload is one
 * BSON document, so one that cannot be (shorter than the 5-byte empty
 * document, or not framed as a document of its own length) is torn too: a
 * zero-filled tail left by a power loss reads as length 0 with checksum 0,
 * which CRC-32 alone would take for an intact empty record.
 */
const FILE_PATTERN = /^journal\.(\d{10})$/;
const HEADER_BYTES = 8;
const MIN_DOCUMENT_BYTES = 5;

function isDocumentFramed(payload: Buffer): boolean {
  return (
    payload.length >= MIN_DOCUMENT_BYTES &&
    payload.readInt32LE(0) === payload.length &&
    payload[payload.length - 1] === 0
  );
}

/** The file name of a journal generation. */
export function journalFileName(generation: number): string {
  return `journal.${String(generation).padStart(10, '0')}`;
}

/** Generations of the journal files in `dir`, ascending. */
export async function journalGenerations(dir: string): Promise<number[]> {
  const names = await readdir(dir);
  return names
    .map((name) => FILE_PATTERN.exec(name)?.[1])
    .filter((digits): digits is string => digits !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Frames one record (header and payload, to be written together). */
export function frame(payload: Uint8Array): Buffer[] {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(crc32(payload), 4);
  return [header, Buffer.from(payload.buffer, payload.byteOffset, payload.length)];
}

/** What one journal file held. */
export interface JournalContents {
  /** Complete, intact record payloads, in order. */
  records: Buffer[];
  /** Bytes after the last intact record (a torn write), removed from the file. */
  discardedBytes: number;
}

/**
 * Reads the records of one journal file. Everything from the first torn or
 * corrupt record on is cut off the file (and synced), so a later append or
 * restart never reads past it.
 */
export async function readJournalFile(path: string): Promise<JournalContents> {
  const bytes = await readFile(path);
  const records: Buffer[] = [];
  let offset = 0;
  while (offset + HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32LE(offset);
    const end = offset + HEADER_BYTES + length;
    if (end > bytes.length) break;
    const payload = bytes.subarray(offset + HEADER_BYTES, end);
    if (!isDocumentFramed(payload) || crc32(payload) !== bytes.readUInt32LE(offset + 4)) break;
    records.push(payload);
    offset = end;
  }
  const discardedBytes = bytes.length - offset;
  if (discardedBytes > 0) {
    await truncate(path, offset);
    await syncPath(path);
  }
  return { records, discardedBytes };
}

/** Removes the journal files of generations before `generation` (a checkpoint holds their changes). */
export async function removeJournalsBefore(dir: string, generation: number): Promise<void> {
  for (const old of await journalGenerations(dir)) {
    if (old < generation) await unlink(join(dir, journalFileName(old)));
  }
}

/**
 * fsync by path: of a file (after cutting it short), or of a directory, so
 * an entry created, renamed or removed in it is durable.
 */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Opens a journal file for appending; its directory entry is made durable before any record counts. */
export async function openJournalFile(dir: string, generation: number): Promise<FileHandle> {
  const handle = await open(join(dir, journalFileName(generation)), 'a');
  await syncPath(dir);
  return handle;
}
