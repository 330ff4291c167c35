import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'bson';
import { afterEach, describe, expect, it } from 'vitest';
import {
  frame,
  journalFileName,
  journalGenerations,
  readJournalFile,
  removeJournalsBefore,
} from '../../src/persistence/journal-file.ts';
import { JournalWriter } from '../../src/persistence/journal-writer.ts';

/** Records are BSON documents, as the emulator writes them. */
const record = (text: string) => Buffer.from(serialize({ text }));
const texts = (records: Buffer[]) => records.map((each) => deserialize(each).text as string);

describe('journal files', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  async function journalled(texts: string[]): Promise<{ dir: string; path: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'journal-unit-'));
    dirs.push(dir);
    const writer = new JournalWriter(dir, 7);
    for (const text of texts) writer.append(record(text));
    await writer.whenDurable();
    await writer.close();
    return { dir, path: join(dir, journalFileName(7)) };
  }

  it('reads back every record appended, in order', async () => {
    const { path } = await journalled(['one', 'two', 'three']);
    const { records, discardedBytes } = await readJournalFile(path);
    expect(texts(records)).toEqual(['one', 'two', 'three']);
    expect(discardedBytes).toBe(0);
  });

  it('discards a record torn by a crash and cuts it off the file', async () => {
    const { path } = await journalled(['one', 'two']);
    const intact = (await stat(path)).size;
    const [header, payload] = frame(record('a record the kill cut short'));
    await appendFile(path, Buffer.concat([header as Buffer, (payload as Buffer).subarray(0, 5)]));
    const { records, discardedBytes } = await readJournalFile(path);
    expect(texts(records)).toEqual(['one', 'two']);
    expect(discardedBytes).toBe(8 + 5);
    expect((await stat(path)).size).toBe(intact);
  });

  it('discards a complete record whose checksum does not match, and what follows it', async () => {
    const { path } = await journalled(['one']);
    const [header, payload] = frame(record('two'));
    const corrupt = Buffer.from(payload as Buffer);
    corrupt[corrupt.length - 2] = 0x4f; // 'O' instead of 'o': same length, different checksum
    await appendFile(path, Buffer.concat([header as Buffer, corrupt, ...frame(record('three'))]));
    const { records } = await readJournalFile(path);
    expect(texts(records)).toEqual(['one']);
    expect(await readFile(path)).toHaveLength(8 + record('one').length);
  });

  it('discards a zero-filled tail (power loss), which a checksum alone takes for an empty record', async () => {
    const { path } = await journalled(['one']);
    const intact = (await stat(path)).size;
    await appendFile(path, Buffer.alloc(64));
    const { records, discardedBytes } = await readJournalFile(path);
    expect(texts(records)).toEqual(['one']);
    expect(discardedBytes).toBe(64);
    expect((await stat(path)).size).toBe(intact);
  });

  it('sends records after a rotation to the next generation, and drops older files on request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'journal-unit-'));
    dirs.push(dir);
    const writer = new JournalWriter(dir, 1);
    writer.append(record('before'));
    expect(writer.rotate()).toBe(2);
    writer.append(record('after'));
    await writer.whenDurable();
    await writer.close();
    expect(await journalGenerations(dir)).toEqual([1, 2]);
    const second = await readJournalFile(join(dir, journalFileName(2)));
    expect(texts(second.records)).toEqual(['after']);
    await removeJournalsBefore(dir, 2);
    expect(await journalGenerations(dir)).toEqual([2]);
  });

  it('reports nothing to wait for once every record is on disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'journal-unit-'));
    dirs.push(dir);
    const writer = new JournalWriter(dir, 1);
    expect(writer.whenDurable()).toBeUndefined();
    writer.append(record('x'));
    const pending = writer.whenDurable();
    expect(pending).toBeInstanceOf(Promise);
    await pending;
    expect(writer.whenDurable()).toBeUndefined();
    await writer.close();
  });
});
