import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget, restError, type ConformanceTarget } from '../support/conformance-target.ts';

describe('filesystems', () => {
  let target: ConformanceTarget;
  beforeAll(async () => {
    target = await openTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('creates a filesystem with metadata and reports it in its properties', async () => {
    const fs = await target.newFilesystem();
    await fs.setMetadata({ owner: 'tributary', purpose: 'conformance' });
    const props = await fs.getProperties();
    expect(props.metadata).toEqual({ owner: 'tributary', purpose: 'conformance' });
    expect(props.etag).toMatch(/^"0x[0-9A-F]+"$/);
    expect(props.lastModified).toBeInstanceOf(Date);
    expect(await fs.exists()).toBe(true);
  });

  it('refuses to create a filesystem that exists, and createIfNotExists reports it', async () => {
    const fs = await target.newFilesystem();
    const error = await restError(fs.create());
    expect(error.statusCode).toBe(409);
    expect(error.code).toBe('ContainerAlreadyExists');
    const again = await fs.createIfNotExists();
    expect(again.succeeded).toBe(false);
  });

  it('lists filesystems by prefix with their metadata', async () => {
    const a = await target.newFilesystem('lista');
    const b = await target.newFilesystem('lista');
    await a.setMetadata({ k: 'v' });
    const names: string[] = [];
    const metadata: Record<string, Record<string, string> | undefined> = {};
    for await (const item of target.service.listFileSystems({
      prefix: 'lista-',
      includeMetadata: true,
    })) {
      names.push(item.name);
      metadata[item.name] = item.metadata;
    }
    expect(names).toEqual(expect.arrayContaining([a.name, b.name]));
    expect(metadata[a.name]).toEqual({ k: 'v' });
  });

  it('pages filesystem listings with a continuation marker', async () => {
    const created = [
      await target.newFilesystem('pagefs'),
      await target.newFilesystem('pagefs'),
      await target.newFilesystem('pagefs'),
    ];
    const pages: string[][] = [];
    for await (const page of target.service
      .listFileSystems({ prefix: 'pagefs-' })
      .byPage({ maxPageSize: 2 })) {
      pages.push((page.fileSystemItems ?? []).map((item) => item.name));
    }
    expect(pages.length).toBeGreaterThanOrEqual(2);
    expect(pages.flat().sort()).toEqual(created.map((fs) => fs.name).sort());
  });

  it('deletes a filesystem so it no longer exists, and deleting again answers 404', async () => {
    const fs = target.service.getFileSystemClient(`del-${Date.now().toString(36)}`);
    await fs.create();
    await fs.delete();
    expect(await fs.exists()).toBe(false);
    const error = await restError(fs.delete());
    if (target.isEmulator) {
      expect(error.statusCode).toBe(404);
      expect(error.code).toBe('ContainerNotFound');
    } else {
      // A real account keeps a deleted filesystem "being deleted" for a while (409 ContainerBeingDeleted).
      expect([404, 409]).toContain(error.statusCode);
    }
    if (target.isEmulator) expect((await fs.deleteIfExists()).succeeded).toBe(false);
  });

  it('refuses an invalid filesystem name with 400', async () => {
    const error = await restError(target.service.getFileSystemClient('Bad_Name').create());
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('InvalidResourceName');
  });
});
