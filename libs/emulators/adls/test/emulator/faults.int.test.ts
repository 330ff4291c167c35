import {
  DataLakeServiceClient,
  StorageSharedKeyCredential,
  type DataLakeFileSystemClient,
} from '@azure/storage-file-datalake';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAdlsEmulator, type AdlsEmulator } from '../../src/index.ts';
import { restError } from '../support/conformance-target.ts';

/** Fault injection, so the writer's retry and throttling paths can be tested. */
describe('fault injection', () => {
  let emulator: AdlsEmulator;
  let fs: DataLakeFileSystemClient;
  let retrying: DataLakeFileSystemClient;
  let counter = 0;
  beforeAll(async () => {
    emulator = await startAdlsEmulator();
    const credential = new StorageSharedKeyCredential(emulator.accountName, emulator.accountKey);
    fs = new DataLakeServiceClient(emulator.url, credential, {
      retryOptions: { maxTries: 1 },
    }).getFileSystemClient('faults');
    retrying = new DataLakeServiceClient(emulator.url, credential, {
      retryOptions: { maxTries: 4, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
    }).getFileSystemClient('faults');
    await fs.create();
  });
  afterEach(() => {
    emulator.faults.clear();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  async function newFile(
    data = 'abc',
  ): Promise<ReturnType<DataLakeFileSystemClient['getFileClient']>> {
    const file = fs.getFileClient(`f${counter++}.txt`);
    await file.create();
    await file.append(Buffer.from(data), 0, data.length);
    await file.flush(data.length);
    return file;
  }

  it('adds latency to the chosen operation only', async () => {
    const file = await newFile();
    emulator.faults.setLatency(250, ['path.flush']);
    const readStart = performance.now();
    await file.getProperties();
    expect(performance.now() - readStart).toBeLessThan(200);
    await file.append(Buffer.from('d'), 3, 1);
    const flushStart = performance.now();
    await file.flush(4);
    expect(performance.now() - flushStart).toBeGreaterThanOrEqual(240);
  });

  it('answers 503 ServerBusy to the next N requests without performing them', async () => {
    const file = await newFile();
    emulator.faults.failNext(2, 503, ['path.append']);
    for (let i = 0; i < 2; i++) {
      const error = await restError(file.append(Buffer.from('x'), 3, 1));
      expect(error.statusCode).toBe(503);
      expect(error.code).toBe('ServerBusy');
    }
    expect(emulator.inspectPath('faults', file.name)?.stagedBytes).toBe(0);
    await file.append(Buffer.from('x'), 3, 1);
    await file.flush(4);
    expect((await file.readToBuffer()).toString()).toBe('abcx');
  });

  it('answers a 409 with the error code a rule names, such as one no client knows', async () => {
    const file = await newFile();
    emulator.faults.add({
      operations: ['path.flush'],
      status: 409,
      errorCode: 'BrandNewConflict',
      times: 1,
    });
    await file.append(Buffer.from('y'), 3, 1);
    const error = await restError(file.flush(4));
    expect([error.statusCode, error.code]).toEqual([409, 'BrandNewConflict']);
    await file.flush(4);
    expect((await file.readToBuffer()).toString()).toBe('abcy');
    expect(() => emulator.faults.add({ status: 409 })).toThrow(/errorCode/);
    expect(() => emulator.faults.add({ status: 503, errorCode: 'X' })).toThrow(/errorCode/);
  });

  it('answers a 400 with the error code a rule names, such as a refused resource name', async () => {
    const refused = emulator.faults.add({
      operations: ['path.create'],
      pathContains: '/refused-',
      status: 400,
      errorCode: 'InvalidResourceName',
    });
    const error = await restError(fs.getFileClient('dir/refused-1.txt').create());
    expect([error.statusCode, error.code]).toEqual([400, 'InvalidResourceName']);
    await fs.getFileClient('dir/accepted.txt').create();
    emulator.faults.remove(refused);
    await fs.getFileClient('dir/refused-1.txt').create();
    expect(() => emulator.faults.add({ status: 400 })).toThrow(/errorCode/);
  });

  it('answers a large append it fails with 503, not a broken connection', async () => {
    const file = await newFile();
    emulator.faults.failNext(1, 503, ['path.append']);
    const big = Buffer.alloc(8 * 1024 * 1024, 1);
    const error = await restError(file.append(big, 3, big.length));
    expect(error.statusCode).toBe(503);
    await file.append(big, 3, big.length);
    await file.flush(3 + big.length);
    expect((await file.getProperties()).contentLength).toBe(3 + big.length);
  });

  it('lets the SDK retry policy ride out transient 500s', async () => {
    const name = `f${counter++}.txt`;
    await fs.getFileClient(name).create();
    emulator.faults.failNext(3, 500, ['path.append', 'path.flush']);
    const file = retrying.getFileClient(name);
    await file.append(Buffer.from('hello'), 0, 5);
    await file.flush(5);
    expect((await file.readToBuffer()).toString()).toBe('hello');
    expect(emulator.faults.list()[0]?.fired).toBe(3);
  });

  it('fails a repeatable random share of requests when seeded', async () => {
    const file = await newFile();
    const outcomes = async (): Promise<string> => {
      emulator.faults.clear();
      emulator.faults.seed(42);
      emulator.faults.failRandomly(0.5, 500, ['path.getProperties']);
      let pattern = '';
      for (let i = 0; i < 30; i++) {
        pattern += await file.getProperties().then(
          () => 'o',
          (error: { statusCode?: number }) => (error.statusCode === 500 ? 'x' : '?'),
        );
      }
      return pattern;
    };
    const first = await outcomes();
    expect(first).toMatch(/x/);
    expect(first).toMatch(/o/);
    expect(first).not.toMatch(/\?/);
    expect(await outcomes()).toBe(first);
  });

  it('resets the connection at the chosen request', async () => {
    const file = await newFile();
    emulator.faults.resetConnectionAt(2, ['path.read']);
    expect((await file.readToBuffer()).toString()).toBe('abc');
    const error = (await file.readToBuffer().then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: string } | undefined;
    expect(error).toBeDefined();
    expect(error?.code).toMatch(/ECONNRESET|REQUEST_SEND_ERROR/);
    expect((await file.readToBuffer()).toString()).toBe('abc');
  });

  it("with phase 'after' performs the flush but loses its answer", async () => {
    const file = await newFile();
    await file.append(Buffer.from('def'), 3, 3);
    emulator.faults.add({ operations: ['path.flush'], status: 500, times: 1, phase: 'after' });
    expect((await restError(file.flush(6))).statusCode).toBe(500);
    expect((await file.getProperties()).contentLength).toBe(6);
  });

  it("with phase 'after' resets the connection once the append is staged, and a retry of it is harmless", async () => {
    const file = await newFile();
    emulator.faults.resetConnectionAt(1, ['path.append'], 'after');
    const lost = await file.append(Buffer.from('def'), 3, 3).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(lost?.code).toMatch(/ECONNRESET|REQUEST_SEND_ERROR/);
    expect(emulator.inspectPath('faults', file.name)?.stagedBytes).toBe(3);
    await file.append(Buffer.from('def'), 3, 3);
    await file.flush(6);
    expect((await file.readToBuffer()).toString()).toBe('abcdef');
  });

  it('holds a flush before performing it until the rule is removed', async () => {
    const file = await newFile();
    await file.append(Buffer.from('def'), 3, 3);
    const id = emulator.faults.add({ operations: ['path.flush'], hold: true, times: 1 });
    const flushed = file.flush(6);
    await until(() => emulator.faults.list()[0]?.fired === 1);
    expect(emulator.inspectPath('faults', file.name)?.committedLength).toBe(3);
    emulator.faults.remove(id);
    await flushed;
    expect((await file.readToBuffer()).toString()).toBe('abcdef');
  });

  it('never performs a held flush whose rule is abandoned, and resets its connection', async () => {
    const file = await newFile();
    await file.append(Buffer.from('def'), 3, 3);
    const id = emulator.faults.add({ operations: ['path.flush'], hold: true, times: 1 });
    const flushed = file.flush(6).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    await until(() => emulator.faults.list()[0]?.fired === 1);
    emulator.faults.abandon(id);
    expect((await flushed)?.code).toMatch(/ECONNRESET|REQUEST_SEND_ERROR/);
    expect((await file.getProperties()).contentLength).toBe(3);
  });

  it("with phase 'after' performs a held flush at once and withholds only its answer", async () => {
    const file = await newFile();
    await file.append(Buffer.from('def'), 3, 3);
    const id = emulator.faults.add({
      operations: ['path.flush'],
      hold: true,
      phase: 'after',
      times: 1,
    });
    const flushed = file.flush(6).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    await until(() => emulator.faults.list()[0]?.fired === 1);
    await until(() => emulator.inspectPath('faults', file.name)?.committedLength === 6);
    emulator.faults.abandon(id);
    expect((await flushed)?.code).toMatch(/ECONNRESET|REQUEST_SEND_ERROR/);
    expect((await file.readToBuffer()).toString()).toBe('abcdef');
  });

  it('is driven over the admin HTTP route too', async () => {
    const admin = `${new URL(emulator.url).origin}/_emulator/faults`;
    const added = await fetch(admin, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ operations: ['path.create'], status: 503, times: 1 }),
    });
    expect(added.status).toBe(201);
    const { id } = (await added.json()) as { id: string };
    const error = await restError(fs.getFileClient('admin.txt').create());
    expect(error.statusCode).toBe(503);
    await fs.getFileClient('admin.txt').create();
    const listed = (await (await fetch(admin)).json()) as {
      rules: Array<{ id: string; fired: number }>;
    };
    expect(listed.rules).toEqual([expect.objectContaining({ id, fired: 1 })]);
    expect((await fetch(`${admin}/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(emulator.faults.list()).toEqual([]);
  });

  it('refuses a malformed fault rule on the admin route with 400', async () => {
    const admin = `${new URL(emulator.url).origin}/_emulator/faults`;
    const bad = await fetch(admin, { method: 'POST', body: JSON.stringify({ status: 418 }) });
    expect(bad.status).toBe(400);
    const notJson = await fetch(admin, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    expect(emulator.faults.list()).toEqual([]);
  });
});

/** Polls `condition` every 10 ms until it holds, or throws after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
