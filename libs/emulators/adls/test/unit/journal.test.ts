import fs, { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeRecords, encodeRecord, Journal, type CrashPoint } from '../../src/store/journal.ts';

describe('journal', () => {
  const dirs: string[] = [];
  const journals: Journal[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const journal of journals.splice(0)) journal.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function open(options: { sync?: boolean; onCrashPoint?: (point: CrashPoint) => void } = {}): {
    journal: Journal;
    file: string;
  } {
    const dir = mkdtempSync(path.join(tmpdir(), 'adls-journal-'));
    dirs.push(dir);
    const journal = new Journal(dir, { sync: options.sync ?? false, ...options });
    journal.load();
    journals.push(journal);
    return { journal, file: path.join(dir, 'journal-0.log') };
  }

  it('writes the records of one event-loop round in a single write, then resolves every waiter', async () => {
    const { journal, file } = open();
    const writes = vi.spyOn(fs, 'writeSync');
    const waits: Array<Promise<void>> = [];
    for (let i = 0; i < 5; i++) {
      journal.append({ n: i });
      waits.push(journal.durable());
    }
    // Nothing is on disk (and nobody may answer) until the group is written.
    expect(journal.hasUndurableRecords).toBe(true);
    expect(readFileSync(file).length).toBe(0);
    await Promise.all(waits);
    expect(writes).toHaveBeenCalledTimes(1);
    expect(journal.hasUndurableRecords).toBe(false);
    expect(decodeRecords(readFileSync(file)).records).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })));
  });

  it('with sync, syncs the data files and then fsyncs the journal before a waiter is resolved', async () => {
    const calls: string[] = [];
    const dir = mkdtempSync(path.join(tmpdir(), 'adls-journal-'));
    dirs.push(dir);
    const journal = new Journal(dir, { sync: true, beforeSync: () => calls.push('data') });
    journal.load();
    journals.push(journal);
    const fsync = vi.spyOn(fs, 'fsync');
    journal.append({ n: 1 });
    const durable = journal.durable().then(() => calls.push('resolved'));
    fsync.mockImplementationOnce((fd, callback) => {
      calls.push('fsync');
      fs.fsync(fd, callback);
    });
    await durable;
    expect(calls).toEqual(['data', 'fsync', 'resolved']);
  });

  it('rejects every waiter and refuses new records once a write fails', async () => {
    const { journal } = open();
    vi.spyOn(fs, 'writeSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    });
    journal.append({ n: 1 });
    await expect(journal.durable()).rejects.toThrow('no space left on device');
    expect(() => journal.append({ n: 2 })).toThrow('no space left on device');
    await expect(journal.durable()).rejects.toThrow('no space left on device');
  });

  it.each([
    ['before-journal-write', 0],
    ['mid-journal-write', 1],
    ['after-journal-write', 2],
  ] as const)(
    'stops at %s of the marked record with that much of it on disk',
    async (point, expectedFirstPart) => {
      const seen: Array<{ point: CrashPoint; onDisk: Buffer }> = [];
      const { journal, file } = open({
        onCrashPoint: (reached) => seen.push({ point: reached, onDisk: readFileSync(file) }),
      });
      journal.append({ before: true });
      journal.append({ marked: 'x'.repeat(40) }, point);
      await journal.durable();
      const before = Buffer.from(encodeRecord({ before: true }));
      const marked = Buffer.from(encodeRecord({ marked: 'x'.repeat(40) }));
      const parts = [
        before,
        Buffer.concat([before, marked.subarray(0, Math.floor(marked.length / 2))]),
        Buffer.concat([before, marked]),
      ];
      expect(seen.map((s) => s.point)).toEqual([point]);
      expect(seen[0]?.onDisk.equals(parts[expectedFirstPart] ?? Buffer.alloc(0))).toBe(true);
      // What a restart at that moment would read back: never the marked record half applied.
      expect(decodeRecords(seen[0]?.onDisk ?? Buffer.alloc(0)).records).toEqual(
        point === 'after-journal-write'
          ? [{ before: true }, { marked: 'x'.repeat(40) }]
          : [{ before: true }],
      );
    },
  );

  it.each([
    ['a complete record', 1, (line: string) => line],
    ['a record without its newline', 0, (line: string) => line.slice(0, -1)],
    ['a record with a flipped byte', 0, (line: string) => line.replace('"a":1', '"a":2')],
    ['a record with a damaged checksum', 0, (line: string) => `zz${line.slice(2)}`],
  ])('reads %s as %i record(s) and stops there', (_label, count, damage) => {
    const good = encodeRecord({ a: 1 });
    const content = Buffer.from(damage(good) + (count === 1 ? '' : good));
    const { records, validBytes } = decodeRecords(content);
    expect(records).toHaveLength(count);
    expect(validBytes).toBe(count === 1 ? Buffer.byteLength(good) : 0);
  });
});
