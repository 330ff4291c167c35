import type { DataLakeFileSystemClient } from '@azure/storage-file-datalake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openTarget,
  patternBytes,
  restError,
  type ConformanceTarget,
} from '../support/conformance-target.ts';

describe('paths', () => {
  let target: ConformanceTarget;
  let fs: DataLakeFileSystemClient;
  beforeAll(async () => {
    target = await openTarget();
    fs = await target.newFilesystem('paths');
  });
  afterAll(async () => {
    await target.close();
  });

  async function write(name: string, data: Buffer): Promise<void> {
    const file = fs.getFileClient(name);
    await file.create();
    await file.append(data, 0, data.length);
    await file.flush(data.length);
  }

  it('creates missing parents as real directories', async () => {
    await fs.getFileClient('a/b/c/file.txt').create();
    for (const dir of ['a', 'a/b', 'a/b/c']) {
      const props = await fs.getDirectoryClient(dir).getProperties();
      expect(props.metadata).toMatchObject({ hdi_isfolder: 'true' });
    }
    const listed = [];
    for await (const item of fs.listPaths({ path: 'a', recursive: true }))
      listed.push([item.name, item.isDirectory ?? false]);
    expect(listed).toEqual([
      ['a/b', true],
      ['a/b/c', true],
      ['a/b/c/file.txt', false],
    ]);
  });

  it('reports committed Content-Length, ETag, Last-Modified and metadata', async () => {
    const file = fs.getFileClient('props/file.bin');
    await file.create({ metadata: { source: 'mongo', batch: '7' } });
    const data = patternBytes(1234);
    await file.append(data, 0, data.length);
    await file.flush(data.length);
    const props = await file.getProperties();
    expect(props.contentLength).toBe(1234);
    expect(props.etag).toMatch(/^"0x[0-9A-F]+"$/);
    expect(props.lastModified).toBeInstanceOf(Date);
    expect(props.metadata).toEqual({ source: 'mongo', batch: '7' });
  });

  it('reads a file whole and by ranges', async () => {
    const data = patternBytes(10_000, 3);
    await write('read/file.bin', data);
    const file = fs.getFileClient('read/file.bin');
    expect((await file.readToBuffer()).equals(data)).toBe(true);
    expect((await file.readToBuffer(100, 50)).equals(data.subarray(100, 150))).toBe(true);
    expect((await file.readToBuffer(9_990)).equals(data.subarray(9_990))).toBe(true);
    const response = await file.read(5000, 10);
    expect(response.contentRange).toBe('bytes 5000-5009/10000');
    expect(response.contentLength).toBe(10);
  });

  it('refuses a range that starts past the end with 416 InvalidRange', async () => {
    await write('read/short.bin', Buffer.from('abc'));
    const error = await restError(fs.getFileClient('read/short.bin').read(10, 5));
    expect(error.statusCode).toBe(416);
    expect(error.code).toBe('InvalidRange');
  });

  it('answers 404 for a path that does not exist', async () => {
    const error = await restError(fs.getFileClient('missing/file').getProperties());
    expect(error.statusCode).toBe(404);
    expect(await fs.getFileClient('missing/file').exists()).toBe(false);
    const del = await restError(fs.getFileClient('missing/file').delete());
    expect(del.statusCode).toBe(404);
    expect(del.code).toBe('PathNotFound');
  });

  it('deletes a file', async () => {
    await write('del/file.txt', Buffer.from('x'));
    await fs.getFileClient('del/file.txt').delete();
    expect(await fs.getFileClient('del/file.txt').exists()).toBe(false);
  });

  it('refuses to delete a non-empty directory without recursive, and deletes it recursively', async () => {
    await write('tree/x/y.txt', Buffer.from('y'));
    const error = await restError(fs.getDirectoryClient('tree').delete(false));
    expect(error.statusCode).toBe(409);
    expect(error.code).toBe('DirectoryNotEmpty');
    await fs.getDirectoryClient('tree').delete(true);
    expect(await fs.getFileClient('tree/x/y.txt').exists()).toBe(false);
    expect(await fs.getDirectoryClient('tree').exists()).toBe(false);
  });

  it('deletes an empty directory without recursive', async () => {
    await fs.getDirectoryClient('empty-dir').create();
    await fs.getDirectoryClient('empty-dir').delete(false);
    expect(await fs.getDirectoryClient('empty-dir').exists()).toBe(false);
  });

  it('lists one level or recursively, directories before their contents', async () => {
    for (const name of ['list/a-c.txt', 'list/a/b.txt', 'list/z.txt'])
      await write(name, Buffer.from(name));
    const oneLevel = [];
    for await (const item of fs.listPaths({ path: 'list' })) oneLevel.push(item.name);
    expect(oneLevel).toEqual(['list/a', 'list/a-c.txt', 'list/z.txt']);
    const all = [];
    for await (const item of fs.listPaths({ path: 'list', recursive: true })) all.push(item.name);
    expect(all).toEqual(['list/a', 'list/a/b.txt', 'list/a-c.txt', 'list/z.txt']);
  });

  it('pages a listing with maxResults and continuation', async () => {
    for (let i = 0; i < 5; i++) await write(`paged/f${i}.txt`, Buffer.from(String(i)));
    const pages: string[][] = [];
    for await (const page of fs
      .listPaths({ path: 'paged', recursive: true })
      .byPage({ maxPageSize: 2 })) {
      pages.push((page.pathItems ?? []).map((item) => item.name ?? ''));
    }
    expect(pages).toEqual([
      ['paged/f0.txt', 'paged/f1.txt'],
      ['paged/f2.txt', 'paged/f3.txt'],
      ['paged/f4.txt'],
    ]);
  });

  it('lists committed lengths, not staged bytes', async () => {
    const file = fs.getFileClient('listlen/file.txt');
    await file.create();
    await file.append(Buffer.from('12345'), 0, 5);
    await file.flush(5);
    await file.append(Buffer.from('678'), 5, 3);
    const items = [];
    for await (const item of fs.listPaths({ path: 'listlen' })) items.push(item);
    expect(items.map((item) => item.contentLength)).toEqual([5]);
  });

  it('refuses to list under a directory that does not exist', async () => {
    const error = await restError(fs.listPaths({ path: 'no-such-dir' }).next());
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('PathNotFound');
  });

  it('creating a file over an existing file empties it, unless If-None-Match: * refuses', async () => {
    await write('overwrite/file.txt', Buffer.from('old content'));
    const file = fs.getFileClient('overwrite/file.txt');
    const refused = await file.createIfNotExists();
    expect(refused.succeeded).toBe(false);
    expect((await file.getProperties()).contentLength).toBe(11);
    await file.create();
    expect((await file.getProperties()).contentLength).toBe(0);
  });

  it('refuses to create a file beneath a file with 409', async () => {
    await write('parent-file', Buffer.from('p'));
    const error = await restError(fs.getFileClient('parent-file/child').create());
    expect(error.statusCode).toBe(409);
  });

  it('sets metadata and HTTP headers on a path', async () => {
    await write('meta/file.json', Buffer.from('{}'));
    const file = fs.getFileClient('meta/file.json');
    await file.setMetadata({ a: '1' });
    await file.setHttpHeaders({ contentType: 'application/json' });
    const props = await file.getProperties();
    expect(props.metadata).toEqual({ a: '1' });
    expect(props.contentType).toBe('application/json');
  });

  it('handles names with spaces, non-ASCII and punctuation', async () => {
    const name = 'odd names/día 1/a+b (x) ~y.jsonl';
    await write(name, Buffer.from('ok'));
    expect((await fs.getFileClient(name).readToBuffer()).toString()).toBe('ok');
    const listed: string[] = [];
    for await (const item of fs.listPaths({ path: 'odd names', recursive: true }))
      listed.push(item.name ?? '');
    expect(listed).toEqual(['odd names/día 1', name]);
    await fs.getFileClient(name).move('odd names/día 1/renamed +=.jsonl');
    expect(
      (await fs.getFileClient('odd names/día 1/renamed +=.jsonl').readToBuffer()).toString(),
    ).toBe('ok');
  });
});
