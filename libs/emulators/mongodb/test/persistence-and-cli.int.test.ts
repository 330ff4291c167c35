import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Long, MongoClient, type Document } from 'mongodb';
import { startMongoEmulator } from '../src/index.ts';
import { AGAINST_REAL_SERVER } from './support/conformance-target.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

// Emulator-only: persistence and the command line belong to the emulator itself.
describe.skipIf(AGAINST_REAL_SERVER)('persistence and the standalone command', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'mongo-emu-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  it('keeps documents, BSON types, options and resumable history across a restart', async () => {
    const dataDir = await tempDir();
    const first = await startMongoEmulator({ dataDir });
    const client1 = new MongoClient(first.uri);
    let token: unknown;
    try {
      const db = client1.db('persist');
      await db.createCollection('c', { changeStreamPreAndPostImages: { enabled: true } });
      await db.collection('c').insertOne({
        _id: 1,
        big: Long.fromString('9007199254740993'),
        when: new Date(0),
      } as never);
      const stream = db.collection('c').watch([], { maxAwaitTimeMS: 50 });
      await stream.tryNext();
      token = stream.resumeToken;
      await stream.close();
      await db.collection('c').insertOne({ _id: 2 } as never);
    } finally {
      await client1.close();
      await first.stop();
    }
    const second = await startMongoEmulator({ dataDir });
    const client2 = new MongoClient(second.uri);
    try {
      const db = client2.db('persist');
      const doc = await db.collection('c').findOne({ _id: 1 } as never);
      expect(doc?.big).toEqual(Long.fromString('9007199254740993'));
      expect(doc?.when).toEqual(new Date(0));
      const [info] = (await db.listCollections({ name: 'c' }).toArray()) as Document[];
      expect(info?.options).toEqual({ changeStreamPreAndPostImages: { enabled: true } });
      const resumed = db
        .collection('c')
        .watch([], { maxAwaitTimeMS: 50, resumeAfter: token as Document });
      const event = await resumed.next();
      await resumed.close();
      expect(event.operationType === 'insert' && event.documentKey._id).toBe(2);
      expect(second.oplogEntries().map((r) => r.documentKey?._id)).toEqual([1, 2]);
    } finally {
      await client2.close();
      await second.stop();
    }
  });

  it('lets a driver change stream resume across a restart on the same port', async () => {
    const dataDir = await tempDir();
    const first = await startMongoEmulator({ dataDir });
    const client = new MongoClient(first.uri, { serverSelectionTimeoutMS: 10_000 });
    let second: Awaited<ReturnType<typeof startMongoEmulator>> | undefined;
    const coll = client.db('persist_restart').collection('c');
    const stream = coll.watch([], { maxAwaitTimeMS: 100 });
    try {
      await stream.tryNext();
      await coll.insertOne({ _id: 1 } as never);
      expect((await stream.next()).operationType).toBe('insert');
      await first.stop();
      second = await startMongoEmulator({ dataDir, port: first.port });
      await coll.insertOne({ _id: 2 } as never);
      const event = (await stream.next()) as Document;
      expect(event.documentKey).toEqual({ _id: 2 });
      expect(second.oplogEntries().map((r) => r.documentKey?._id)).toEqual([1, 2]);
    } finally {
      await stream.close();
      await client.close();
      await first.stop();
      await second?.stop();
    }
  }, 20_000);

  it.each(['--help', '-h'])('%s prints every option with its default and exits 0', (flag) => {
    const run = spawnSync(process.execPath, [CLI, flag], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    for (const option of [
      '--port PORT',
      '--host HOST',
      '--data-dir DIR',
      '--oplog-max-entries N',
      '--oplog-max-bytes N',
      '--checkpoint-interval-ms MS',
      '-h, --help',
    ])
      expect(run.stdout).toContain(option);
    expect(run.stdout).toContain('(default: 27017)');
    expect(run.stdout).toContain('(default: 1,000,000)');
  });

  it('names an unknown option, points to --help and exits 64 (EX_USAGE) without starting', () => {
    const run = spawnSync(process.execPath, [CLI, '--bogus'], { encoding: 'utf8' });
    expect(run.status).toBe(64);
    expect(run.stderr).toContain("unknown option '--bogus'");
    expect(run.stderr).toContain('--help');
    expect(run.stdout).toBe('');
  });

  it('runs as a command that prints its URI and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, '--port', '0', '--oplog-max-entries', '100'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const uri = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => l.startsWith('mongodb://'));
        if (line) resolve(line.trim());
      });
      child.once('exit', (code) => reject(new Error(`cli exited early with ${code}`)));
      setTimeout(() => reject(new Error('cli did not print a URI')), 10_000);
    });
    expect(uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/\?replicaSet=rs0$/);
    const client = new MongoClient(uri);
    try {
      expect((await client.db('admin').command({ ping: 1 })).ok).toBe(1);
    } finally {
      await client.close();
    }
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 20_000);
});
