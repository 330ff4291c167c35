import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Lake } from '../src/lake.ts';
import { isLakeError, type LakeErrorCode } from '../src/lake-error.ts';
import { leaseCases } from './lake-lease-cases.ts';

/** What one conformance run needs from an adapter. */
export interface LakeFixture {
  /** The lake under test, on fresh, empty storage. */
  readonly lake: Lake;
  /** A second, independent client over the same storage (may be `lake` itself). */
  readonly otherClient: Lake;
  /** Closes both clients and removes the storage. */
  dispose(): Promise<void>;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/** Awaits `promise` and asserts it fails with a `LakeError` of `code`. */
export async function expectLakeError(
  promise: Promise<unknown>,
  code: LakeErrorCode,
): Promise<void> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`Expected LakeError ${code}, got a result.`);
  if (!isLakeError(outcome.error)) throw outcome.error;
  expect(outcome.error.code).toBe(code);
}

async function listAll(lake: Lake, prefix: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for await (const entry of lake.list(prefix)) found.set(entry.path, entry.length);
  return found;
}

/**
 * The lake port's behaviour, written once and run against every adapter
 * (and against the ADLS emulator and a real account with the same tests).
 */
export function describeLakeConformance(
  name: string,
  makeFixture: () => Promise<LakeFixture>,
): void {
  describe(`${name} (lake conformance)`, () => {
    let fixture: LakeFixture;
    let lake: Lake;

    beforeEach(async () => {
      fixture = await makeFixture();
      lake = fixture.lake;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('creates an empty file, appends to it and reads back what was committed', async () => {
      const created = await lake.create('db/coll/hour=01/part-0-a.jsonl');
      expect(created.length).toBe(0);
      const first = await lake.append('db/coll/hour=01/part-0-a.jsonl', 0, bytes('one\n'), {
        ifVersion: created.version,
      });
      expect(first.length).toBe(4);
      const second = await lake.append('db/coll/hour=01/part-0-a.jsonl', 4, bytes('two\n'), {
        ifVersion: first.version,
      });
      expect(second).toEqual(await lake.stat('db/coll/hour=01/part-0-a.jsonl'));
      expect(second.length).toBe(8);
      expect(text(await lake.read('db/coll/hour=01/part-0-a.jsonl'))).toBe('one\ntwo\n');
    });

    it('refuses to create a file that exists, with ALREADY_EXISTS', async () => {
      const created = await lake.create('a/file.jsonl');
      await lake.append('a/file.jsonl', 0, bytes('kept'), { ifVersion: created.version });
      await expectLakeError(lake.create('a/file.jsonl'), 'ALREADY_EXISTS');
      expect(text(await lake.read('a/file.jsonl'))).toBe('kept');
    });

    it('rejects an append at the wrong offset with CONFLICT and commits nothing', async () => {
      const created = await lake.create('f.jsonl');
      const state = await lake.append('f.jsonl', 0, bytes('abc'), { ifVersion: created.version });
      await expectLakeError(
        lake.append('f.jsonl', 2, bytes('XYZ'), { ifVersion: state.version }),
        'CONFLICT',
      );
      await expectLakeError(
        lake.append('f.jsonl', 5, bytes('XYZ'), { ifVersion: state.version }),
        'CONFLICT',
      );
      expect(await lake.stat('f.jsonl')).toEqual(state);
      expect(text(await lake.read('f.jsonl'))).toBe('abc');
    });

    it('rejects an append with a stale version with CONFLICT and commits nothing', async () => {
      const created = await lake.create('f.jsonl');
      const state = await lake.append('f.jsonl', 0, bytes('abc'), { ifVersion: created.version });
      // A writer that lost ownership still holds `created.version`.
      await expectLakeError(
        lake.append('f.jsonl', 3, bytes('late'), { ifVersion: created.version }),
        'CONFLICT',
      );
      expect(await lake.stat('f.jsonl')).toEqual(state);
      expect(text(await lake.read('f.jsonl'))).toBe('abc');
    });

    it('moves the version on every commit and only ever grows the committed length', async () => {
      let state = await lake.create('grow.jsonl');
      const versions = new Set([state.version]);
      const lengths = [state.length];
      for (const line of ['a\n', 'bb\n', 'ccc\n']) {
        state = await lake.append('grow.jsonl', state.length, bytes(line), {
          ifVersion: state.version,
        });
        versions.add(state.version);
        lengths.push(state.length);
        await expectLakeError(
          lake.append('grow.jsonl', 0, bytes('rewind'), { ifVersion: state.version }),
          'CONFLICT',
        );
      }
      expect(versions.size).toBe(4);
      expect(lengths).toEqual([0, 2, 5, 9]);
      expect(text(await lake.read('grow.jsonl'))).toBe('a\nbb\nccc\n');
    });

    it('commits the data of a closing append', async () => {
      const created = await lake.create('closed.jsonl');
      const closed = await lake.append('closed.jsonl', 0, bytes('last line\n'), {
        ifVersion: created.version,
        close: true,
      });
      expect(closed.length).toBe(10);
      expect(await lake.stat('closed.jsonl')).toEqual(closed);
      expect(text(await lake.read('closed.jsonl'))).toBe('last line\n');
    });

    it('fails an append to a missing file with NOT_FOUND', async () => {
      await expectLakeError(
        lake.append('nope.jsonl', 0, bytes('x'), { ifVersion: '1' }),
        'NOT_FOUND',
      );
    });

    it('reports a missing file, and a directory, as undefined from stat', async () => {
      expect(await lake.stat('missing/file.jsonl')).toBeUndefined();
      await lake.create('dir/sub/file.jsonl');
      expect(await lake.stat('dir/sub')).toBeUndefined();
    });

    it('reads committed byte ranges, clamped to the committed length', async () => {
      const created = await lake.create('r.txt');
      await lake.append('r.txt', 0, bytes('0123456789'), { ifVersion: created.version });
      expect(text(await lake.read('r.txt', 2, 3))).toBe('234');
      expect(text(await lake.read('r.txt', 7))).toBe('789');
      expect(text(await lake.read('r.txt', 8, 100))).toBe('89');
      expect(text(await lake.read('r.txt', 10))).toBe('');
      expect(text(await lake.read('r.txt', 4, 0))).toBe('');
      expect(text(await lake.read('r.txt', 0))).toBe('0123456789');
    });

    it('reads an empty file as no bytes, and a missing one as NOT_FOUND', async () => {
      await lake.create('empty.txt');
      expect((await lake.read('empty.txt')).length).toBe(0);
      await expectLakeError(lake.read('missing.txt'), 'NOT_FOUND');
    });

    it('writes a document only once with ifAbsent; the second write is a CONFLICT', async () => {
      const first = await lake.writeDocument('_t/cp.json', bytes('{"v":1}'), { ifAbsent: true });
      expect(first.length).toBe(7);
      await expectLakeError(
        lake.writeDocument('_t/cp.json', bytes('{"v":2}'), { ifAbsent: true }),
        'CONFLICT',
      );
      expect(text(await lake.read('_t/cp.json'))).toBe('{"v":1}');
      expect(await lake.stat('_t/cp.json')).toEqual(first);
    });

    it('replaces a document under ifVersion and refuses a stale version with CONFLICT', async () => {
      const first = await lake.writeDocument('cp.json', bytes('{"v":1}'), { ifAbsent: true });
      const second = await lake.writeDocument('cp.json', bytes('{"v":22}'), {
        ifVersion: first.version,
      });
      expect(second.version).not.toBe(first.version);
      expect(second.length).toBe(8);
      await expectLakeError(
        lake.writeDocument('cp.json', bytes('{"v":3}'), { ifVersion: first.version }),
        'CONFLICT',
      );
      expect(text(await lake.read('cp.json'))).toBe('{"v":22}');
      expect(await lake.stat('cp.json')).toEqual(second);
    });

    it('reads a document with the version of exactly those bytes, and nothing for a missing one or a directory', async () => {
      const first = await lake.writeDocument('docs/cp.json', bytes('{"v":1}'), { ifAbsent: true });
      const read = await lake.readDocument('docs/cp.json');
      expect(read && text(read.data)).toBe('{"v":1}');
      expect(read?.state).toEqual(first);
      const second = await fixture.otherClient.writeDocument('docs/cp.json', bytes('{"v":22}'), {
        ifVersion: first.version,
      });
      const reread = await lake.readDocument('docs/cp.json');
      expect(reread && text(reread.data)).toBe('{"v":22}');
      expect(reread?.state).toEqual(second);
      // The version read with the old bytes no longer passes a condition.
      await expectLakeError(
        lake.writeDocument('docs/cp.json', bytes('{"v":3}'), { ifVersion: first.version }),
        'CONFLICT',
      );
      expect(await lake.readDocument('docs/none.json')).toBeUndefined();
      expect(await lake.readDocument('docs')).toBeUndefined();
    });

    it('refuses an ifVersion write to a missing document with CONFLICT', async () => {
      await expectLakeError(
        lake.writeDocument('none.json', bytes('{}'), { ifVersion: 'whatever' }),
        'CONFLICT',
      );
      expect(await lake.stat('none.json')).toBeUndefined();
    });

    it('lets exactly one of two clients win a concurrent ifAbsent document write', async () => {
      const results = await Promise.allSettled([
        lake.writeDocument('race/origin.json', bytes('"A"'), { ifAbsent: true }),
        fixture.otherClient.writeDocument('race/origin.json', bytes('"B"'), { ifAbsent: true }),
      ]);
      const winners = results.filter((r) => r.status === 'fulfilled');
      const losers = results.filter((r) => r.status === 'rejected');
      expect(winners).toHaveLength(1);
      expect(losers.map((r) => isLakeError(r.reason) && r.reason.code)).toEqual(['CONFLICT']);
      const stored = text(await lake.read('race/origin.json'));
      expect(stored).toBe(results[0]?.status === 'fulfilled' ? '"A"' : '"B"');
    });

    it('lets exactly one of two clients win concurrent ifVersion document writes', async () => {
      const base = await lake.writeDocument('race/cp.json', bytes('"base"'), { ifAbsent: true });
      for (let round = 0; round < 5; round += 1) {
        const current = await lake.stat('race/cp.json');
        const version = current?.version ?? base.version;
        const results = await Promise.allSettled([
          lake.writeDocument('race/cp.json', bytes(`"A${round}"`), { ifVersion: version }),
          fixture.otherClient.writeDocument('race/cp.json', bytes(`"B${round}"`), {
            ifVersion: version,
          }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const loser = results.find((r) => r.status === 'rejected');
        expect(isLakeError(loser?.reason) && loser.reason.code).toBe('CONFLICT');
        const winner = results.findIndex((r) => r.status === 'fulfilled');
        expect(text(await lake.read('race/cp.json'))).toBe(`"${winner === 0 ? 'A' : 'B'}${round}"`);
      }
    });

    it('lists every file below a prefix, recursively, and nothing outside it', async () => {
      await lake.create('db/a/year=2026/month=11/part-0-1.jsonl');
      const b = await lake.create('db/a/year=2026/month=12/part-1-5.jsonl');
      await lake.append('db/a/year=2026/month=12/part-1-5.jsonl', 0, bytes('12345'), {
        ifVersion: b.version,
      });
      await lake.create('db/b/part-0-1.jsonl');
      await lake.writeDocument('db/a/_cp.json', bytes('{}'), { ifAbsent: true });
      await lake.create('dbx/other.jsonl');

      expect(await listAll(lake, 'db/a')).toEqual(
        new Map([
          ['db/a/year=2026/month=11/part-0-1.jsonl', 0],
          ['db/a/year=2026/month=12/part-1-5.jsonl', 5],
          ['db/a/_cp.json', 2],
        ]),
      );
      expect([...(await listAll(lake, 'db/')).keys()].sort()).toEqual([
        'db/a/_cp.json',
        'db/a/year=2026/month=11/part-0-1.jsonl',
        'db/a/year=2026/month=12/part-1-5.jsonl',
        'db/b/part-0-1.jsonl',
      ]);
      expect((await listAll(lake, '')).size).toBe(5);
      expect((await listAll(lake, 'nothing/here')).size).toBe(0);
    });

    it('keeps names with percent signs, spaces and question marks intact', async () => {
      // Path templates percent-encode namespace parts (`a/b` becomes `a%2Fb`).
      const path = 'db/we%2Fird coll?/part-0-#1.jsonl';
      const created = await lake.create(path);
      await lake.append(path, 0, bytes('x\n'), { ifVersion: created.version });
      await lake.writeDocument('db/we%2Fird coll?/cp 1%.json', bytes('{}'), { ifAbsent: true });
      expect(text(await lake.read(path))).toBe('x\n');
      expect(await listAll(lake, 'db/we%2Fird coll?')).toEqual(
        new Map([
          [path, 2],
          ['db/we%2Fird coll?/cp 1%.json', 2],
        ]),
      );
      expect(await lake.stat('db/we/ird coll?/part-0-#1.jsonl')).toBeUndefined();
    });

    it('refuses paths that could escape the lake with INVALID_PATH', async () => {
      for (const path of [
        '../x',
        'a/../../x',
        '/etc/passwd',
        'a\\..\\b',
        'a//b',
        './a',
        '',
        'a/.',
      ]) {
        await expectLakeError(lake.stat(path), 'INVALID_PATH');
        await expectLakeError(lake.create(path), 'INVALID_PATH');
        await expectLakeError(
          lake.writeDocument(path, bytes('x'), { ifAbsent: true }),
          'INVALID_PATH',
        );
      }
      await expectLakeError(
        (async () => {
          for await (const _entry of lake.list('../')) break;
        })(),
        'INVALID_PATH',
      );
    });

    leaseCases(() => fixture);

    it('closes idempotently', async () => {
      await lake.close();
      await lake.close();
    });
  });
}
