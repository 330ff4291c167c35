import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Lake } from '../src/lake.ts';
import { expectLakeError } from './lake-conformance.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/**
 * The write-lease and delete behaviour of the lake port, part of the
 * conformance suite: `current()` is the fixture of the running test, whose
 * `otherClient` plays a second writer.
 */
export function leaseCases(current: () => { lake: Lake; otherClient: Lake }): void {
  it('lets only the holder of a file’s write lease append to it', async () => {
    const { lake, otherClient } = current();
    const owner = randomUUID();
    const created = await lake.create('leased/a.jsonl', { leaseId: owner });
    const first = await lake.append('leased/a.jsonl', 0, bytes('one\n'), {
      ifVersion: created.version,
      leaseId: owner,
    });
    await expectLakeError(
      otherClient.append('leased/a.jsonl', 4, bytes('two\n'), { ifVersion: first.version }),
      'CONFLICT',
    );
    await expectLakeError(
      otherClient.append('leased/a.jsonl', 4, bytes('two\n'), {
        ifVersion: first.version,
        leaseId: randomUUID(),
      }),
      'CONFLICT',
    );
    expect(text(await lake.read('leased/a.jsonl'))).toBe('one\n');
    expect(await lake.stat('leased/a.jsonl')).toEqual(first);
  });

  it('refuses to take a lease another holds, unless taking it over', async () => {
    const { lake, otherClient } = current();
    const [first, second] = [randomUUID(), randomUUID()];
    const created = await lake.create('leased/b.jsonl');
    await lake.acquireLease('leased/b.jsonl', first);
    await lake.acquireLease('leased/b.jsonl', first); // again, same id: fine
    await expectLakeError(otherClient.acquireLease('leased/b.jsonl', second), 'CONFLICT');
    await otherClient.acquireLease('leased/b.jsonl', second, { takeOver: true });
    // The old holder is fenced out, even with the version it last saw.
    await expectLakeError(
      lake.append('leased/b.jsonl', 0, bytes('stale\n'), {
        ifVersion: created.version,
        leaseId: first,
      }),
      'CONFLICT',
    );
    const appended = await otherClient.append('leased/b.jsonl', 0, bytes('new\n'), {
      ifVersion: created.version,
      leaseId: second,
    });
    expect(appended.length).toBe(4);
    expect(text(await lake.read('leased/b.jsonl'))).toBe('new\n');
  });

  it('fences out a holder whose lease was released, and lets anyone write again after a release', async () => {
    const { lake, otherClient } = current();
    const holder = randomUUID();
    const created = await lake.create('leased/c.jsonl', { leaseId: holder });
    await lake.releaseLease('leased/c.jsonl', holder);
    await lake.releaseLease('leased/c.jsonl', holder); // not held any more: nothing happens
    await expectLakeError(
      lake.append('leased/c.jsonl', 0, bytes('x\n'), {
        ifVersion: created.version,
        leaseId: holder,
      }),
      'CONFLICT',
    );
    const next = randomUUID();
    await otherClient.acquireLease('leased/c.jsonl', next);
    // Releasing under someone else's id leaves the lease alone.
    await lake.releaseLease('leased/c.jsonl', holder);
    await expectLakeError(
      lake.append('leased/c.jsonl', 0, bytes('x\n'), { ifVersion: created.version }),
      'CONFLICT',
    );
  });

  it('keeps a lease and its data across a closing append', async () => {
    const { lake, otherClient } = current();
    const holder = randomUUID();
    const created = await lake.create('leased/d.jsonl', { leaseId: holder });
    const closed = await lake.append('leased/d.jsonl', 0, bytes('last\n'), {
      ifVersion: created.version,
      leaseId: holder,
      close: true,
    });
    await expectLakeError(
      otherClient.append('leased/d.jsonl', 5, bytes('more\n'), { ifVersion: closed.version }),
      'CONFLICT',
    );
    expect(text(await otherClient.read('leased/d.jsonl'))).toBe('last\n');
  });

  it('fails to lease a missing file with NOT_FOUND', async () => {
    const { lake } = current();
    await expectLakeError(lake.acquireLease('leased/missing.jsonl', randomUUID()), 'NOT_FOUND');
  });

  it('deletes a document only while it is at the version named', async () => {
    const { lake } = current();
    const first = await lake.writeDocument('docs/y.json', bytes('1'), { ifAbsent: true });
    const second = await lake.writeDocument('docs/y.json', bytes('2'), {
      ifVersion: first.version,
    });
    await expectLakeError(lake.delete('docs/y.json', { ifVersion: first.version }), 'CONFLICT');
    expect(text(await lake.read('docs/y.json'))).toBe('2');
    await lake.delete('docs/y.json', { ifVersion: second.version });
    expect(await lake.stat('docs/y.json')).toBeUndefined();
    await lake.delete('docs/y.json', { ifVersion: second.version });
  });

  it('deletes an unleased file, ignores a missing one and refuses a leased one', async () => {
    const { lake, otherClient } = current();
    await lake.writeDocument('docs/x.json', bytes('{}'), { ifAbsent: true });
    await lake.delete('docs/x.json');
    expect(await lake.stat('docs/x.json')).toBeUndefined();
    await lake.delete('docs/x.json');
    await lake.delete('nowhere/at/all.json');
    const holder = randomUUID();
    await lake.create('leased/e.jsonl', { leaseId: holder });
    await expectLakeError(otherClient.delete('leased/e.jsonl'), 'CONFLICT');
    await lake.releaseLease('leased/e.jsonl', holder);
    await otherClient.delete('leased/e.jsonl');
    expect(await lake.stat('leased/e.jsonl')).toBeUndefined();
    const listed: string[] = [];
    for await (const entry of lake.list('')) listed.push(entry.path);
    expect(listed).toEqual([]);
  });
}
