import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNodeScript } from '@tributary/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalLake } from '../../src/local/local-lake.ts';
import { expectLakeError } from '../lake-conformance.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const raceScript = fileURLToPath(new URL('../fixtures/write-document-once.ts', import.meta.url));

describe('local lake on disk', () => {
  let rootDir: string;

  beforeEach(async () => {
    rootDir = await mkdtemp(join(tmpdir(), 'tributary-local-lake-'));
  });
  afterEach(async () => {
    await rm(rootDir, { recursive: true, force: true });
  });

  it('keeps the lake layout as plain files under the root directory', async () => {
    const lake = createLocalLake({ rootDir });
    const created = await lake.create('db/coll/hour=03/part-1-k.jsonl');
    await lake.append('db/coll/hour=03/part-1-k.jsonl', 0, bytes('{"a":1}\n'), {
      ifVersion: created.version,
    });
    await lake.writeDocument('_tributary/checkpoints/partition-0001.json', bytes('{}'), {
      ifAbsent: true,
    });
    expect(await readdir(join(rootDir, 'db/coll/hour=03'))).toEqual(['part-1-k.jsonl']);
    // No lock or temporary file is left beside the document.
    expect(await readdir(join(rootDir, '_tributary/checkpoints'))).toEqual(['partition-0001.json']);
    await lake.close();
  });

  it('lets exactly one of several processes win an ifAbsent document write', async () => {
    const results = await Promise.all(
      ['p1', 'p2', 'p3', 'p4'].map((id) =>
        runNodeScript(raceScript, { LAKE_ROOT: rootDir, WRITER_ID: id }),
      ),
    );
    for (const result of results) expect(result.stderr).toBe('');
    const outcomes = results.map((r) => r.stdout.trim());
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'lost')).toHaveLength(3);
  });

  it('breaks a lock left behind by a killed process once it is stale', async () => {
    const lake = createLocalLake({ rootDir, staleLockMs: 1_000, lockTimeoutMs: 2_000 });
    await mkdir(join(rootDir, '_t'), { recursive: true });
    const lockFile = join(rootDir, '_t/cp.json.~lock');
    await writeFile(lockFile, '12345 long ago\n');
    const old = Date.now() / 1000 - 60;
    await utimes(lockFile, old, old);
    const state = await lake.writeDocument('_t/cp.json', bytes('{"v":1}'), { ifAbsent: true });
    expect(state.length).toBe(7);
    expect(await readdir(join(rootDir, '_t'))).toEqual(['cp.json']);
  });

  it('gives up with UNAVAILABLE while another holder keeps a fresh lock', async () => {
    const lake = createLocalLake({ rootDir, staleLockMs: 60_000, lockTimeoutMs: 50 });
    const created = await lake.create('f.jsonl');
    await writeFile(join(rootDir, 'f.jsonl.~lock'), '1 now\n');
    await expectLakeError(
      lake.append('f.jsonl', 0, bytes('x'), { ifVersion: created.version }),
      'UNAVAILABLE',
    );
    expect(await lake.stat('f.jsonl')).toEqual(created);
  });

  it('never lists its own lock and temporary files', async () => {
    const lake = createLocalLake({ rootDir });
    await lake.create('d/a.jsonl');
    await writeFile(join(rootDir, 'd/a.jsonl.~lock'), '');
    await writeFile(join(rootDir, 'd/b.json.~tmp-123'), 'partial');
    const listed = [];
    for await (const entry of lake.list('d')) listed.push(entry.path);
    expect(listed).toEqual(['d/a.jsonl']);
  });

  it('refuses to create a file below an existing file with INVALID', async () => {
    const lake = createLocalLake({ rootDir });
    await lake.create('a');
    await expectLakeError(lake.create('a/b'), 'INVALID');
  });
});
