import type { DataLakeFileSystemClient } from '@azure/storage-file-datalake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget, restError, type ConformanceTarget } from '../support/conformance-target.ts';

describe('rename', () => {
  let target: ConformanceTarget;
  let fs: DataLakeFileSystemClient;
  beforeAll(async () => {
    target = await openTarget();
    fs = await target.newFilesystem('rename');
  });
  afterAll(async () => {
    await target.close();
  });

  async function write(name: string, text: string): Promise<void> {
    const file = fs.getFileClient(name);
    await file.create();
    await file.append(Buffer.from(text), 0, text.length);
    await file.flush(text.length);
  }

  it('moves a file, keeping its content', async () => {
    await write('mv/src.txt', 'payload');
    await fs.getDirectoryClient('mv/dest').create();
    await fs.getFileClient('mv/src.txt').move('mv/dest/renamed.txt');
    expect(await fs.getFileClient('mv/src.txt').exists()).toBe(false);
    expect((await fs.getFileClient('mv/dest/renamed.txt').readToBuffer()).toString()).toBe(
      'payload',
    );
  });

  it('moves a directory with everything under it in one step', async () => {
    await write('tree/a/1.txt', 'one');
    await write('tree/a/b/2.txt', 'two');
    await fs.getDirectoryClient('tree/a').move('moved-a');
    const names: string[] = [];
    for await (const item of fs.listPaths({ path: 'moved-a', recursive: true }))
      names.push(item.name ?? '');
    expect(names).toEqual(['moved-a/1.txt', 'moved-a/b', 'moved-a/b/2.txt']);
    expect(await fs.getDirectoryClient('tree/a').exists()).toBe(false);
    expect((await fs.getFileClient('moved-a/b/2.txt').readToBuffer()).toString()).toBe('two');
  });

  it('never lets a concurrent listing see a directory half renamed', async () => {
    const count = 40;
    const files = Array.from({ length: count }, (_, i) => `f${String(i).padStart(2, '0')}.txt`);
    for (const name of files) await write(`atomic/left/${name}`, name);
    const under = (dir: string): string[] => [
      `atomic/${dir}`,
      ...files.map((name) => `atomic/${dir}/${name}`),
    ];
    const left = JSON.stringify(under('left'));
    const right = JSON.stringify(under('right'));
    /** One listing in one request (a single page), as a reader would see it. */
    const snapshot = async (): Promise<string> => {
      const page = (
        await fs.listPaths({ path: 'atomic', recursive: true }).byPage({ maxPageSize: 5000 }).next()
      ).value as { continuationToken?: string; pathItems?: Array<{ name?: string }> };
      expect(page.continuationToken ?? '').toBe('');
      return JSON.stringify((page.pathItems ?? []).map((item) => item.name ?? ''));
    };
    const seen: string[] = [];
    let renaming = true;
    const readers = Array.from({ length: 4 }, async () => {
      do seen.push(await snapshot());
      while (renaming);
    });
    // Back and forth several times while the readers keep listing.
    let at = 'left';
    for (let round = 0; round < 6; round++) {
      const to = at === 'left' ? 'right' : 'left';
      await fs.getDirectoryClient(`atomic/${at}`).move(`atomic/${to}`);
      at = to;
    }
    renaming = false;
    await Promise.all(readers);
    const mixed = seen.filter((listing) => listing !== left && listing !== right);
    expect(mixed).toEqual([]);
    expect(seen.length).toBeGreaterThan(4);
    expect(await snapshot()).toBe(left);
  });

  it('replaces an existing destination file, unless If-None-Match: * refuses', async () => {
    await write('over/src.txt', 'new');
    await write('over/dst.txt', 'old');
    const refused = await restError(
      fs
        .getFileClient('over/src.txt')
        .move('over/dst.txt', { destinationConditions: { ifNoneMatch: '*' } }),
    );
    expect(refused.statusCode).toBe(409);
    expect(refused.code).toBe('PathAlreadyExists');
    await fs.getFileClient('over/src.txt').move('over/dst.txt');
    expect((await fs.getFileClient('over/dst.txt').readToBuffer()).toString()).toBe('new');
  });

  it('answers 404 SourcePathNotFound when the source is missing', async () => {
    const error = await restError(fs.getFileClient('nothing-here.txt').move('elsewhere.txt'));
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('SourcePathNotFound');
  });

  it('answers 404 RenameDestinationParentPathNotFound when the destination directory is missing', async () => {
    await write('orphan/src.txt', 'x');
    const error = await restError(
      fs.getFileClient('orphan/src.txt').move('no/such/parent/file.txt'),
    );
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('RenameDestinationParentPathNotFound');
  });

  it('refuses moving a directory into itself with 409 InvalidRenameSourcePath', async () => {
    await write('self/x.txt', 'x');
    const error = await restError(fs.getDirectoryClient('self').move('self/inner'));
    expect(error.statusCode).toBe(409);
    expect(error.code).toBe('InvalidRenameSourcePath');
  });

  it('honours source conditions (412 SourceConditionNotMet)', async () => {
    await write('cond/src.txt', 'x');
    const error = await restError(
      fs.getFileClient('cond/src.txt').move('cond/dst.txt', { conditions: { ifMatch: '"0x1"' } }),
    );
    expect(error.statusCode).toBe(412);
    expect(error.code).toBe('SourceConditionNotMet');
  });

  it('moves a file to another filesystem', async () => {
    const other = await target.newFilesystem('rename-dst');
    await write('cross/src.txt', 'across');
    await fs.getFileClient('cross/src.txt').move(other.name, 'arrived.txt');
    expect((await other.getFileClient('arrived.txt').readToBuffer()).toString()).toBe('across');
  });

  it('refuses moving a leased file without its lease id (412) and moves it with the id', async () => {
    await write('leased/src.txt', 'fenced');
    const lease = fs.getFileClient('leased/src.txt').getDataLakeLeaseClient();
    await lease.acquireLease(15);
    const refused = await restError(fs.getFileClient('leased/src.txt').move('leased/dst.txt'));
    expect(refused.statusCode).toBe(412);
    expect(refused.code).toBe('LeaseIdMissing');
    await fs
      .getFileClient('leased/src.txt')
      .move('leased/dst.txt', { conditions: { leaseId: lease.leaseId } });
    expect((await fs.getFileClient('leased/dst.txt').readToBuffer()).toString()).toBe('fenced');
  });
});
