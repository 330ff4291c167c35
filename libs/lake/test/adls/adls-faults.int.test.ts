import { randomUUID } from 'node:crypto';
import { startAdlsEmulator, type AdlsEmulator } from '@tributary/emulator-adls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAdlsLake } from '../../src/adls/adls-lake.ts';
import type { Lake } from '../../src/lake.ts';
import { expectLakeError } from '../lake-conformance.ts';
import { TEST_BACKOFF } from './adls-fixture.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

describe('adls lake through failures (ADLS emulator faults)', () => {
  let emulator: AdlsEmulator;
  let filesystem: string;
  let lake: Lake;
  let retries: unknown[];

  beforeAll(async () => {
    emulator = await startAdlsEmulator();
  });
  afterAll(async () => {
    await emulator.stop();
  });
  afterEach(async () => {
    emulator.faults.clear();
    await lake.close();
  });

  async function openLake(policy = TEST_BACKOFF): Promise<Lake> {
    filesystem = `faults-${randomUUID().slice(0, 8)}`;
    retries = [];
    lake = await createAdlsLake({
      accountUrl: emulator.url,
      accountName: emulator.accountName,
      accountKey: emulator.accountKey,
      filesystem,
      retry: policy,
      onRetry: (error) => retries.push(error),
    });
    return lake;
  }

  /** The emulator's own record of the file, not the adapter's answer. */
  function committedLength(path: string): number | undefined {
    return emulator.inspectPath(filesystem, path)?.committedLength;
  }

  it('commits every append exactly once while a third of all requests fail with 503', async () => {
    // A budget in time rather than in attempts: each attempt makes up to four
    // requests, so at this failure rate some need many tries.
    await openLake({ ...TEST_BACKOFF, maxRetries: Infinity, maxElapsedMs: 20_000 });
    emulator.faults.seed(42);
    emulator.faults.failRandomly(0.33, 503);
    let state = await lake.create('db/c/part-0-1.jsonl');
    const lines = Array.from({ length: 40 }, (_, i) => `{"n":${i}}\n`);
    for (const line of lines) {
      state = await lake.append('db/c/part-0-1.jsonl', state.length, bytes(line), {
        ifVersion: state.version,
      });
    }
    emulator.faults.clear();
    expect(retries.length).toBeGreaterThan(10);
    expect(committedLength('db/c/part-0-1.jsonl')).toBe(lines.join('').length);
    expect(text(await lake.read('db/c/part-0-1.jsonl'))).toBe(lines.join(''));
  });

  it('reports a flush whose answer was lost as committed, once, not as a CONFLICT', async () => {
    await openLake();
    const created = await lake.create('f.jsonl');
    const first = await lake.append('f.jsonl', 0, bytes('a\n'), { ifVersion: created.version });
    emulator.faults.add({ operations: ['path.flush'], status: 500, phase: 'after', times: 1 });
    const second = await lake.append('f.jsonl', 2, bytes('b\n'), { ifVersion: first.version });
    expect(second).toEqual(await lake.stat('f.jsonl'));
    expect(second.length).toBe(4);
    expect(committedLength('f.jsonl')).toBe(4);
    expect(retries).toHaveLength(1);
    // The version it reported is the live one: the next append goes through.
    const third = await lake.append('f.jsonl', 4, bytes('c\n'), { ifVersion: second.version });
    expect(text(await lake.read('f.jsonl'))).toBe('a\nb\nc\n');
    expect(third.length).toBe(6);
  });

  it('survives connections dropped after the append and after the flush', async () => {
    await openLake();
    let state = await lake.create('reset.jsonl');
    emulator.faults.add({ operations: ['path.append'], reset: true, phase: 'after', times: 1 });
    state = await lake.append('reset.jsonl', 0, bytes('one\n'), { ifVersion: state.version });
    emulator.faults.add({ operations: ['path.flush'], reset: true, phase: 'after', times: 1 });
    state = await lake.append('reset.jsonl', 4, bytes('two\n'), { ifVersion: state.version });
    expect(state.length).toBe(8);
    expect(committedLength('reset.jsonl')).toBe(8);
    expect(text(await lake.read('reset.jsonl'))).toBe('one\ntwo\n');
  });

  it('still reports a CONFLICT when another writer committed while the answer was lost', async () => {
    await openLake();
    const created = await lake.create('shared.jsonl');
    // Our flush fails before it is performed; meanwhile another writer commits.
    emulator.faults.add({ operations: ['path.flush'], status: 503, times: 1 });
    const other = await createAdlsLake({
      accountUrl: emulator.url,
      accountName: emulator.accountName,
      accountKey: emulator.accountKey,
      filesystem,
      retry: TEST_BACKOFF,
    });
    const ours = lake.append('shared.jsonl', 0, bytes('ours\n'), { ifVersion: created.version });
    const theirs = other.append('shared.jsonl', 0, bytes('their\n'), {
      ifVersion: created.version,
    });
    const results = await Promise.allSettled([ours, theirs]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await other.close();
    const stored = text(await lake.read('shared.jsonl'));
    expect(['ours\n', 'their\n']).toContain(stored);
    expect(committedLength('shared.jsonl')).toBe(stored.length);
  });

  it('gives up with a retryable error when the service stays busy, and commits nothing', async () => {
    await openLake();
    const created = await lake.create('busy.jsonl');
    emulator.faults.failNext(1000, 503, ['path.flush']);
    await expectLakeError(
      lake.append('busy.jsonl', 0, bytes('x'), { ifVersion: created.version }),
      'THROTTLED',
    );
    expect(committedLength('busy.jsonl')).toBe(0);
  });

  it('reports a document rename whose answer was lost as written, not as a CONFLICT', async () => {
    await openLake();
    const first = await lake.writeDocument('_t/cp.json', bytes('{"v":1}'), { ifAbsent: true });
    emulator.faults.add({ operations: ['path.rename'], status: 500, phase: 'after', times: 1 });
    const second = await lake.writeDocument('_t/cp.json', bytes('{"v":2}'), {
      ifVersion: first.version,
    });
    expect(second).toEqual(await lake.stat('_t/cp.json'));
    expect(text(await lake.read('_t/cp.json'))).toBe('{"v":2}');
    const listed = [];
    for await (const entry of lake.list('_t')) listed.push(entry.path);
    expect(listed).toEqual(['_t/cp.json']);
  });

  it('lets exactly one of two clients win each document race while answers are lost', async () => {
    await openLake({ ...TEST_BACKOFF, maxRetries: Infinity, maxElapsedMs: 20_000 });
    const other = await createAdlsLake({
      accountUrl: emulator.url,
      accountName: emulator.accountName,
      accountKey: emulator.accountKey,
      filesystem,
      retry: { ...TEST_BACKOFF, maxRetries: Infinity, maxElapsedMs: 20_000 },
    });
    emulator.faults.seed(7);
    emulator.faults.add({
      operations: ['path.rename'],
      status: 500,
      phase: 'after',
      probability: 0.3,
    });
    emulator.faults.add({ status: 503, probability: 0.1 });
    let version = (await lake.writeDocument('cp.json', bytes('"0"'), { ifAbsent: true })).version;
    for (let round = 1; round <= 15; round += 1) {
      const results = await Promise.allSettled([
        lake.writeDocument('cp.json', bytes(`"A${round}"`), { ifVersion: version }),
        other.writeDocument('cp.json', bytes(`"B${round}"`), { ifVersion: version }),
      ]);
      const winners = results.flatMap((r, i) =>
        r.status === 'fulfilled' ? [{ i, state: r.value }] : [],
      );
      expect(winners).toHaveLength(1);
      const winner = winners[0]!;
      expect(text(await lake.read('cp.json'))).toBe(`"${winner.i === 0 ? 'A' : 'B'}${round}"`);
      expect(winner.state).toEqual(await lake.stat('cp.json'));
      version = winner.state.version;
    }
    const lostRenames = emulator.faults.list().find((rule) => rule.phase === 'after');
    expect(lostRenames?.fired).toBeGreaterThan(0);
    emulator.faults.clear();
    await other.close();
  });

  it('takes a create whose answer was lost as its own', async () => {
    await openLake();
    emulator.faults.add({ operations: ['path.create'], reset: true, phase: 'after', times: 1 });
    const created = await lake.create('lost-create.jsonl');
    expect(created).toEqual(await lake.stat('lost-create.jsonl'));
  });

  it('refuses a wrong account key with UNAUTHORIZED, without the key in the message', async () => {
    const wrongKey = Buffer.from('not-the-key-at-all-but-long-enough').toString('base64');
    const failure = await createAdlsLake({
      accountUrl: emulator.url,
      accountName: emulator.accountName,
      accountKey: wrongKey,
      filesystem: 'never',
      retry: TEST_BACKOFF,
    }).catch((error: unknown) => error);
    await expectLakeError(Promise.reject(failure), 'UNAUTHORIZED');
    expect(JSON.stringify(failure)).not.toContain(wrongKey);
    expect(String(failure)).not.toContain(wrongKey);
    lake = await openLake();
  });

  it('connects with a connection string and creates a missing filesystem idempotently', async () => {
    const name = `cs-${randomUUID().slice(0, 8)}`;
    const a = await createAdlsLake({
      connectionString: emulator.connectionString,
      filesystem: name,
    });
    const b = await createAdlsLake({
      connectionString: emulator.connectionString,
      filesystem: name,
    });
    await a.writeDocument('x.json', bytes('{}'), { ifAbsent: true });
    expect(await b.stat('x.json')).toEqual(await a.stat('x.json'));
    await a.close();
    await b.close();
    lake = await openLake();
  });
});
