import type { DataLakeFileClient, DataLakeFileSystemClient } from '@azure/storage-file-datalake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  onEmulator,
  openTarget,
  patternBytes,
  restError,
  type ConformanceTarget,
} from '../support/conformance-target.ts';

/**
 * Append and flush exactly as Path - Update defines them:
 * https://learn.microsoft.com/rest/api/storageservices/datalakestoragegen2/path/update
 */
describe('append and flush', () => {
  let target: ConformanceTarget;
  let fs: DataLakeFileSystemClient;
  let counter = 0;
  beforeAll(async () => {
    target = await openTarget();
    fs = await target.newFilesystem('append');
  });
  afterAll(async () => {
    await target.close();
  });

  async function newFile(): Promise<DataLakeFileClient> {
    const file = fs.getFileClient(`files/f${counter++}.jsonl`);
    await file.create();
    return file;
  }

  it('keeps appended data invisible to readers and Content-Length until flushed', async () => {
    const file = await newFile();
    await file.append(Buffer.from('line-1\n'), 0, 7);
    expect((await file.getProperties()).contentLength).toBe(0);
    expect((await file.readToBuffer()).length).toBe(0);
    await file.flush(7);
    expect((await file.getProperties()).contentLength).toBe(7);
    expect((await file.readToBuffer()).toString()).toBe('line-1\n');
  });

  it('accepts appends in any order beyond the committed length and commits when contiguous', async () => {
    const file = await newFile();
    await file.append(Buffer.from('CCC'), 6, 3);
    await file.append(Buffer.from('AAA'), 0, 3);
    await file.append(Buffer.from('BBB'), 3, 3);
    await file.flush(9);
    expect((await file.readToBuffer()).toString()).toBe('AAABBBCCC');
  });

  it('refuses a flush over a gap with 400 InvalidFlushPosition and commits nothing', async () => {
    const file = await newFile();
    await file.append(Buffer.from('AAA'), 0, 3);
    await file.append(Buffer.from('CCC'), 6, 3);
    const error = await restError(file.flush(9));
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('InvalidFlushPosition');
    expect((await file.getProperties()).contentLength).toBe(0);
    await file.flush(3);
    expect((await file.readToBuffer()).toString()).toBe('AAA');
  });

  it('refuses a flush past the uploaded data with InvalidFlushPosition', async () => {
    const file = await newFile();
    await file.append(Buffer.from('abc'), 0, 3);
    const error = await restError(file.flush(4));
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('InvalidFlushPosition');
  });

  it('refuses a flush below the committed length with InvalidFlushPosition', async () => {
    const file = await newFile();
    await file.append(Buffer.from('abcdef'), 0, 6);
    await file.flush(6);
    const error = await restError(file.flush(3));
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('InvalidFlushPosition');
    expect((await file.getProperties()).contentLength).toBe(6);
  });

  it('commits only up to the flush position and drops the rest unless asked to retain it', async () => {
    const dropped = await newFile();
    await dropped.append(Buffer.from('0123456789'), 0, 10);
    await dropped.flush(4);
    expect((await dropped.readToBuffer()).toString()).toBe('0123');
    // The bytes after 4 were discarded, so flushing to 10 now has nothing to commit.
    expect((await restError(dropped.flush(10))).code).toBe('InvalidFlushPosition');

    const retained = await newFile();
    await retained.append(Buffer.from('0123456789'), 0, 10);
    await retained.flush(4, { retainUncommittedData: true });
    expect((await retained.readToBuffer()).toString()).toBe('0123');
    await retained.flush(10);
    expect((await retained.readToBuffer()).toString()).toBe('0123456789');
  });

  it('continues appending after a flush at the committed length', async () => {
    const file = await newFile();
    await file.append(Buffer.from('one\n'), 0, 4);
    await file.flush(4);
    await file.append(Buffer.from('two\n'), 4, 4);
    await file.flush(8, { close: true });
    expect((await file.readToBuffer()).toString()).toBe('one\ntwo\n');
  });

  it('accepts appends and flushes after a close flush (close only marks the change notification)', async () => {
    const file = await newFile();
    await file.append(Buffer.from('one\n'), 0, 4);
    const closed = await file.flush(4, { close: true });
    await file.append(Buffer.from('two\n'), 4, 4);
    const reopened = await file.flush(8);
    expect(reopened.etag).not.toBe(closed.etag);
    expect((await file.getProperties()).contentLength).toBe(8);
    expect((await file.readToBuffer()).toString()).toBe('one\ntwo\n');
  });

  it.skipIf(!onEmulator)(
    'marks the file closed on a flush with close=true, and open again on the next flush without it',
    async () => {
      const file = await newFile();
      const closedFlag = (): boolean | undefined =>
        target.emulator?.inspectPath(fs.name, file.name)?.closed;
      await file.append(Buffer.from('one\n'), 0, 4);
      await file.flush(4);
      expect(closedFlag()).toBe(false);
      await file.flush(4, { close: true });
      expect(closedFlag()).toBe(true);
      await file.append(Buffer.from('two\n'), 4, 4);
      expect(closedFlag()).toBe(true);
      await file.flush(8);
      expect(closedFlag()).toBe(false);
    },
  );

  it('refuses an append below the committed length', async () => {
    const file = await newFile();
    await file.append(Buffer.from('abc'), 0, 3);
    await file.flush(3);
    const error = await restError(file.append(Buffer.from('x'), 1, 1));
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('InvalidFlushPosition');
  });

  it('accepts a flush repeated at the committed length (a retry after a lost answer) without changing the data', async () => {
    const file = await newFile();
    await file.append(Buffer.from('abc'), 0, 3);
    await file.flush(3);
    await file.flush(3);
    expect((await file.getProperties()).contentLength).toBe(3);
    expect((await file.readToBuffer()).toString()).toBe('abc');
  });

  it('accepts an append repeated with the same bytes at the same position (a retry after a lost answer)', async () => {
    const file = await newFile();
    await file.append(Buffer.from('abc'), 0, 3);
    await file.append(Buffer.from('abc'), 0, 3);
    await file.flush(3);
    expect((await file.readToBuffer()).toString()).toBe('abc');
  });

  it('gives the file a new ETag on each flush', async () => {
    const file = await newFile();
    const etags = new Set<string | undefined>();
    etags.add((await file.getProperties()).etag);
    for (let i = 0; i < 3; i++) {
      await file.append(Buffer.from('x'), i, 1);
      const flushed = await file.flush(i + 1);
      etags.add(flushed.etag);
      expect((await file.getProperties()).etag).toBe(flushed.etag);
    }
    expect(etags.size).toBe(4);
  });

  it('answers 412 to a flush whose If-Match names an old ETag, and commits nothing', async () => {
    const file = await newFile();
    const oldEtag = (await file.getProperties()).etag;
    await file.append(Buffer.from('ab'), 0, 2);
    const first = await file.flush(2, { conditions: { ifMatch: oldEtag } });
    await file.append(Buffer.from('cd'), 2, 2);
    const error = await restError(file.flush(4, { conditions: { ifMatch: oldEtag } }));
    expect(error.statusCode).toBe(412);
    expect(error.code).toBe('ConditionNotMet');
    expect((await file.getProperties()).contentLength).toBe(2);
    await file.flush(4, { conditions: { ifMatch: first.etag } });
    expect((await file.getProperties()).contentLength).toBe(4);
  });

  it('answers 412 to If-None-Match: * on an existing file and to date conditions that fail', async () => {
    const file = await newFile();
    await file.append(Buffer.from('ab'), 0, 2);
    expect((await restError(file.flush(2, { conditions: { ifNoneMatch: '*' } }))).statusCode).toBe(
      412,
    );
    const lastModified = (await file.getProperties()).lastModified as Date;
    const past = new Date(lastModified.getTime() - 60_000);
    const future = new Date(lastModified.getTime() + 60_000);
    expect(
      (await restError(file.flush(2, { conditions: { ifUnmodifiedSince: past } }))).statusCode,
    ).toBe(412);
    expect(
      (await restError(file.flush(2, { conditions: { ifModifiedSince: future } }))).statusCode,
    ).toBe(412);
    await file.flush(2, { conditions: { ifModifiedSince: past, ifUnmodifiedSince: future } });
    expect((await file.getProperties()).contentLength).toBe(2);
  });

  it('answers 304 to a read whose If-None-Match is the current ETag', async () => {
    const file = await newFile();
    const etag = (await file.getProperties()).etag;
    const error = await restError(file.read(0, undefined, { conditions: { ifNoneMatch: etag } }));
    expect(error.statusCode).toBe(304);
  });

  it('appends and flushes in one request with flush=true', async () => {
    const file = await newFile();
    await file.append(Buffer.from('hello'), 0, 5, { flush: true });
    expect((await file.readToBuffer()).toString()).toBe('hello');
  });

  it('refuses a flush on a file that does not exist with 404', async () => {
    const error = await restError(fs.getFileClient('files/never-created').flush(0));
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('PathNotFound');
  });

  it('round-trips many small append+flush pairs byte for byte', async () => {
    const file = await newFile();
    const lines: Buffer[] = [];
    let position = 0;
    for (let i = 0; i < 50; i++) {
      const line = Buffer.from(
        `${JSON.stringify({ seq: i, payload: patternBytes(i + 1, i).toString('base64') })}\n`,
      );
      await file.append(line, position, line.length);
      position += line.length;
      await file.flush(position);
      lines.push(line);
    }
    expect((await file.readToBuffer()).equals(Buffer.concat(lines))).toBe(true);
  });
});
