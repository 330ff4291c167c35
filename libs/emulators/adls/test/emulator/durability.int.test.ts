import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataLakeServiceClient } from '@azure/storage-file-datalake';
import { afterEach, describe, expect, it } from 'vitest';
import { startAdlsEmulator, type AdlsEmulator } from '../../src/index.ts';
import { patternBytes } from '../support/conformance-target.ts';
import { startEmulatorProcess, type EmulatorProcess } from '../support/emulator-process.ts';

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

  it('keeps filesystems, files, metadata, leases and staged data across a restart', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    const fs = client(first.connectionString).getFileSystemClient('keep');
    await fs.create({ metadata: { env: 'test' } });
    const data = patternBytes(100_000, 5);
    const file = fs.getFileClient('dir/data.bin');
    await file.create({ metadata: { kind: 'jsonl' } });
    await file.append(data, 0, data.length);
    const { etag } = await file.flush(data.length);
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

  it('never shows half-committed data after being killed (SIGKILL) in the middle of flushes', async () => {
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
    const file = fs.getFileClient('stream.jsonl');
    await file.create();
    const lines: Buffer[] = [];
    const flushedAt: number[] = [0];
    let acknowledged = 0;
    let position = 0;
    const writer = (async () => {
      for (let i = 0; ; i++) {
        const line = Buffer.from(`${JSON.stringify({ seq: i, pad: 'x'.repeat(i % 200) })}\n`);
        lines.push(line);
        await file.append(line, position, line.length);
        position += line.length;
        flushedAt.push(position);
        await file.flush(position);
        acknowledged = position;
      }
    })().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 400 + Math.random() * 300));
    proc.child.kill('SIGKILL');
    await proc.exited;
    await writer;
    expect(acknowledged).toBeGreaterThan(0);

    const restarted = await start(dataDir);
    const reread = client(restarted.connectionString)
      .getFileSystemClient('crash')
      .getFileClient('stream.jsonl');
    const length = (await reread.getProperties()).contentLength ?? -1;
    // Committed length is a flush boundary, never below what was acknowledged.
    expect(flushedAt).toContain(length);
    expect(length).toBeGreaterThanOrEqual(acknowledged);
    const content = await reread.readToBuffer();
    expect(content.equals(Buffer.concat(lines).subarray(0, length))).toBe(true);
  });
});
