import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataLakeServiceClient } from '@azure/storage-file-datalake';
import { afterEach, describe, expect, it } from 'vitest';
import { startAdlsEmulator, type AdlsEmulator } from '../../src/index.ts';
import { patternBytes } from '../support/conformance-target.ts';
import { startEmulatorProcess, type EmulatorProcess } from '../support/emulator-process.ts';

/** Polls `condition` every 10 ms for up to 10 s. */
async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function client(connectionString: string): DataLakeServiceClient {
  return DataLakeServiceClient.fromConnectionString(connectionString, {
    retryOptions: { maxTries: 1 },
  });
}

describe('durability', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function tempDir(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'adls-durability-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  async function start(dataDir: string): Promise<AdlsEmulator> {
    const emulator = await startAdlsEmulator({ dataDir });
    cleanups.push(() => emulator.stop());
    return emulator;
  }

  it('keeps filesystems, files, metadata, the close flag, leases and staged data across a restart', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    const fs = client(first.connectionString).getFileSystemClient('keep');
    await fs.create({ metadata: { env: 'test' } });
    const data = patternBytes(100_000, 5);
    const file = fs.getFileClient('dir/data.bin');
    await file.create({ metadata: { kind: 'jsonl' } });
    await file.append(data, 0, data.length);
    const { etag } = await file.flush(data.length, { close: true });
    await file.append(Buffer.from('staged'), data.length, 6);
    const lease = fs.getFileClient('dir/leased.txt');
    await lease.create();
    const leaseClient = lease.getDataLakeLeaseClient();
    await leaseClient.acquireLease(-1);
    await first.stop();

    const second = await start(dataDir);
    const again = client(second.connectionString).getFileSystemClient('keep');
    expect((await again.getProperties()).metadata).toEqual({ env: 'test' });
    const props = await again.getFileClient('dir/data.bin').getProperties();
    expect(props.contentLength).toBe(data.length);
    expect(props.etag).toBe(etag);
    expect(props.metadata).toEqual({ kind: 'jsonl' });
    expect(second.inspectPath('keep', 'dir/data.bin')?.closed).toBe(true);
    expect((await again.getFileClient('dir/data.bin').readToBuffer()).equals(data)).toBe(true);
    await again.getFileClient('dir/data.bin').flush(data.length + 6);
    expect((await again.getFileClient('dir/data.bin').readToBuffer(data.length)).toString()).toBe(
      'staged',
    );
    expect((await again.getFileClient('dir/leased.txt').getProperties()).leaseState).toBe('leased');
  });

  it('ignores a flush record torn by a crash, leaving the file at its previous commit', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    const fs = client(first.connectionString).getFileSystemClient('torn');
    await fs.create();
    const file = fs.getFileClient('file.txt');
    await file.create();
    await file.append(Buffer.from('committed\n'), 0, 10);
    await file.flush(10);
    await file.append(Buffer.from('not yet\n'), 10, 8);
    await first.stop();
    // Simulate a crash halfway through writing the flush record: half a valid line, no newline.
    const stateDir = path.join(dataDir, 'state');
    const journal = readdirSync(stateDir).find((name) => name.startsWith('journal-'));
    expect(journal).toBeDefined();
    const record = JSON.stringify({
      t: 'path.put',
      fs: 'torn',
      entries: [{ name: 'file.txt', committedLength: 18 }],
    });
    appendFileSync(
      path.join(stateDir, journal ?? ''),
      `deadbeef ${record.slice(0, record.length / 2)}`,
    );

    const second = await start(dataDir);
    const again = client(second.connectionString)
      .getFileSystemClient('torn')
      .getFileClient('file.txt');
    expect((await again.getProperties()).contentLength).toBe(10);
    expect((await again.readToBuffer()).toString()).toBe('committed\n');
    await again.flush(18);
    expect((await again.readToBuffer()).toString()).toBe('committed\nnot yet\n');
  });

  it('drops a record whose checksum does not match, and every record after it', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    const fs = client(first.connectionString).getFileSystemClient('crc');
    await fs.create();
    const file = fs.getFileClient('f.txt');
    await file.create();
    const lines = ['one\n', 'two\n', 'three\n', 'four\n'];
    const flushedEtags: string[] = [];
    let position = 0;
    for (const line of lines) {
      await file.append(Buffer.from(line), position, line.length);
      position += line.length;
      flushedEtags.push((await file.flush(position)).etag ?? '');
    }
    await first.stop();
    // Flip one byte inside the (complete, newline-terminated) record of the third flush.
    const stateDir = path.join(dataDir, 'state');
    const journal = path.join(
      stateDir,
      readdirSync(stateDir).find((name) => name.startsWith('journal-')) ?? 'missing',
    );
    const content = readFileSync(journal);
    // The first record that commits 14 bytes is the third flush (the fourth append's record follows it).
    const third = Buffer.from(`"committedLength":${'one\ntwo\nthree\n'.length},`);
    const at = content.indexOf(third);
    const lineStart = content.lastIndexOf(0x0a, at) + 1;
    expect(content.subarray(lineStart, at).toString()).toMatch(/^[0-9a-f]{8} \{"t":"path\.put"/);
    expect(content.indexOf(0x0a, at)).toBeGreaterThan(at);
    const digit = at + third.length - 2;
    content[digit] = content[digit] === 0x34 ? 0x35 : 0x34;
    writeFileSync(journal, content);

    const second = await start(dataDir);
    const again = client(second.connectionString).getFileSystemClient('crc').getFileClient('f.txt');
    const props = await again.getProperties();
    // Back to the second flush: the corrupt third flush and the fourth after it are gone.
    expect(props.contentLength).toBe('one\ntwo\n'.length);
    expect(props.etag).toBe(flushedEtags[1]);
    expect((await again.readToBuffer()).toString()).toBe('one\ntwo\n');
    // The third append (logged before the corrupt record) is still staged and can be committed.
    expect(second.inspectPath('crc', 'f.txt')?.stagedBytes).toBe('three\n'.length);
    await again.flush('one\ntwo\nthree\n'.length);
    expect((await again.readToBuffer()).toString()).toBe('one\ntwo\nthree\n');
  });

  it.each([
    ['before-journal-write', 'old'],
    ['mid-journal-write', 'old'],
    ['after-journal-write', 'new'],
  ] as const)(
    'after a SIGKILL frozen at %s of a flush, restarts with the %s committed length, never in between',
    async (crash, expected) => {
      const dataDir = tempDir();
      const proc: EmulatorProcess = await startEmulatorProcess([
        '--port',
        '0',
        '--data-dir',
        dataDir,
      ]);
      cleanups.push(async () => {
        if (proc.child.exitCode === null && proc.child.signalCode === null)
          proc.child.kill('SIGKILL');
        await proc.exited;
      });
      const fs = client(proc.connectionString).getFileSystemClient('crash');
      await fs.create();
      const file = fs.getFileClient('s.jsonl');
      await file.create();
      const committed = Buffer.from('{"seq":0}\n');
      const pending = Buffer.from('{"seq":1,"pad":"xxxxxxxxxxxxxxxxxxxxxxxx"}\n');
      await file.append(committed, 0, committed.length);
      const oldEtag = (await file.flush(committed.length)).etag;
      await file.append(pending, committed.length, pending.length);
      const added = await fetch(`${new URL(proc.url).origin}/_emulator/faults`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ operations: ['path.flush'], crash, times: 1 }),
      });
      expect(added.status).toBe(201);
      const flushing = file.flush(committed.length + pending.length).then(
        () => 'answered',
        () => 'no answer',
      );
      await waitFor(() => proc.output().includes(`frozen at crash point ${crash}`));
      proc.child.kill('SIGKILL');
      await proc.exited;
      expect(await flushing).toBe('no answer');

      const restarted = await start(dataDir);
      const reread = client(restarted.connectionString)
        .getFileSystemClient('crash')
        .getFileClient('s.jsonl');
      const props = await reread.getProperties();
      const content = await reread.readToBuffer();
      const all = Buffer.concat([committed, pending]);
      const length = expected === 'old' ? committed.length : all.length;
      expect(props.contentLength).toBe(length);
      expect(content.equals(all.subarray(0, length))).toBe(true);
      if (expected === 'old') {
        // The ETag is still the one the last acknowledged flush returned, and the append survives staged.
        expect(props.etag).toBe(oldEtag);
        expect(restarted.inspectPath('crash', 's.jsonl')?.stagedBytes).toBe(pending.length);
        const retried = await reread.flush(all.length);
        expect(retried.etag).not.toBe(oldEtag);
        expect((await reread.readToBuffer()).equals(all)).toBe(true);
      } else {
        // The flush was durable though unanswered: a new ETag for the new bytes, nothing left staged.
        expect(props.etag).not.toBe(oldEtag);
        expect(restarted.inspectPath('crash', 's.jsonl')?.stagedBytes).toBe(0);
      }
    },
  );
});
