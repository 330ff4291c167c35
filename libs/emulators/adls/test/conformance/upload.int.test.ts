import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DataLakeFileSystemClient } from '@azure/storage-file-datalake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget, patternBytes, type ConformanceTarget } from '../support/conformance-target.ts';

/** The SDK's parallel uploads append out of order and flush once at the end. */
describe('SDK upload round trips', () => {
  let target: ConformanceTarget;
  let fs: DataLakeFileSystemClient;
  let localDir: string;
  beforeAll(async () => {
    target = await openTarget();
    fs = await target.newFilesystem('upload');
    localDir = mkdtempSync(path.join(tmpdir(), 'adls-upload-'));
  });
  afterAll(async () => {
    rmSync(localDir, { recursive: true, force: true });
    await target.close();
  });

  it('upload() with small chunks and high concurrency round-trips byte for byte', async () => {
    const data = patternBytes(3 * 1024 * 1024 + 17, 11);
    const file = fs.getFileClient('up/buffer.bin');
    await file.upload(data, {
      chunkSize: 64 * 1024,
      maxConcurrency: 32,
      singleUploadThreshold: 1024,
    });
    expect((await file.getProperties()).contentLength).toBe(data.length);
    expect((await file.readToBuffer()).equals(data)).toBe(true);
  });

  it('uploadFile() with small chunks and high concurrency round-trips byte for byte', async () => {
    const data = patternBytes(2 * 1024 * 1024 + 3, 12);
    const local = path.join(localDir, 'source.bin');
    writeFileSync(local, data);
    const file = fs.getFileClient('up/file.bin');
    await file.uploadFile(local, {
      chunkSize: 100_000,
      maxConcurrency: 16,
      singleUploadThreshold: 1024,
    });
    expect((await file.readToBuffer()).equals(data)).toBe(true);
  });

  it('upload() of a small buffer goes in one append and one flush', async () => {
    const data = Buffer.from('{"a":1}\n');
    const file = fs.getFileClient('up/small.jsonl');
    await file.upload(data);
    expect((await file.readToBuffer()).equals(data)).toBe(true);
  });

  it('upload() of an empty buffer creates an empty file', async () => {
    const file = fs.getFileClient('up/empty.bin');
    await file.upload(Buffer.alloc(0));
    expect((await file.getProperties()).contentLength).toBe(0);
  });

  it('upload() over an existing file replaces its content', async () => {
    const file = fs.getFileClient('up/replace.bin');
    await file.upload(patternBytes(5000, 1));
    const replacement = patternBytes(300, 2);
    await file.upload(replacement);
    expect((await file.readToBuffer()).equals(replacement)).toBe(true);
  });
});
