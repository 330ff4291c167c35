import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appendData, flushData } from '../../src/store/file-writes.ts';
import { LakeStore } from '../../src/store/lake-store.ts';

const noConditions = {
  ifMatch: undefined,
  ifNoneMatch: undefined,
  ifModifiedSince: undefined,
  ifUnmodifiedSince: undefined,
};
const noLease = {
  leaseId: undefined,
  action: undefined,
  proposedLeaseId: undefined,
  duration: undefined,
};

function createFile(store: LakeStore, name: string): void {
  store.createPath('lake', name, {
    kind: 'file',
    metadata: {},
    headers: {},
    conditions: noConditions,
    leaseId: undefined,
    proposedLeaseId: undefined,
    leaseDuration: undefined,
  });
}

function write(store: LakeStore, name: string, at: number, text: string): void {
  appendData(store, 'lake', name, {
    position: at,
    chunks: [Buffer.from(text)],
    length: text.length,
    contentMd5: undefined,
    lease: noLease,
    flush: false,
  });
  flushData(store, 'lake', name, {
    position: at + text.length,
    retainUncommittedData: false,
    close: false,
    conditions: noConditions,
    headers: {},
    lease: noLease,
  });
}

function read(store: LakeStore, name: string): string {
  const entry = store.path('lake', name, false);
  return entry.dataId ? store.data.read(entry.dataId, 0, entry.committedLength).toString() : '';
}

describe('lake store', () => {
  const dirs: string[] = [];
  const stores: LakeStore[] = [];
  afterEach(() => {
    for (const store of stores.splice(0)) store.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function open(dataDir: string, compactAfterBytes?: number): LakeStore {
    const store = LakeStore.open({
      dataDir,
      ...(compactAfterBytes !== undefined ? { compactAfterBytes } : {}),
    });
    stores.push(store);
    return store;
  }

  function tempDir(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'adls-store-'));
    dirs.push(dir);
    return dir;
  }

  it('rebuilds the same state from snapshot and journal after many compactions', () => {
    const dataDir = tempDir();
    const store = open(dataDir, 4096);
    store.createFilesystem('lake', {}, false);
    for (let i = 0; i < 20; i++) createFile(store, `dir/f${i}.txt`);
    let position = 0;
    for (let i = 0; i < 200; i++) {
      write(store, 'dir/f0.txt', position, `line ${i}\n`);
      position += `line ${i}\n`.length;
    }
    store.deletePath('lake', 'dir/f1.txt', false, noConditions, undefined);
    const before = JSON.stringify(store.state.toJSON());
    const content = read(store, 'dir/f0.txt');
    store.close();
    expect(readdirSync(path.join(dataDir, 'state')).some((name) => name === 'snapshot.json')).toBe(
      true,
    );

    const reopened = open(dataDir, 4096);
    expect(JSON.stringify(reopened.state.toJSON())).toBe(before);
    expect(read(reopened, 'dir/f0.txt')).toBe(content);
    expect(content.split('\n').length).toBe(201);
  });

  it('removes data files no entry refers to when it opens', () => {
    const dataDir = tempDir();
    const store = open(dataDir);
    store.createFilesystem('lake', {}, false);
    createFile(store, 'keep.txt');
    write(store, 'keep.txt', 0, 'kept');
    store.close();
    const orphanDir = path.join(dataDir, 'blobs', 'ab');
    mkdirSync(orphanDir, { recursive: true });
    writeFileSync(path.join(orphanDir, 'ab'.repeat(16)), 'left behind by a crash');

    const reopened = open(dataDir);
    expect(readdirSync(orphanDir)).not.toContain('ab'.repeat(16));
    expect(read(reopened, 'keep.txt')).toBe('kept');
  });

  it('frees the data of an overwritten file only once the overwrite is durable', async () => {
    const dataDir = tempDir();
    const store = open(dataDir);
    store.createFilesystem('lake', {}, false);
    createFile(store, 'f.txt');
    write(store, 'f.txt', 0, 'first');
    const firstId = store.path('lake', 'f.txt', false).dataId ?? '';
    const blobDir = path.join(dataDir, 'blobs', firstId.slice(0, 2));
    createFile(store, 'f.txt');
    // A crash now would replay the journal without the overwrite, so the old bytes must still be there.
    expect(store.hasUnpersistedChanges).toBe(true);
    expect(readdirSync(blobDir)).toContain(firstId);
    await store.persisted();
    await new Promise((resolve) => setImmediate(resolve));
    expect(readdirSync(blobDir)).not.toContain(firstId);
  });
});
