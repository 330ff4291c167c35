import { describe, expect, it } from 'vitest';
import type { BackoffPolicy } from '@tributary/core';
import { appendExactlyOnce, type AppendRequests } from '../../src/adls/append-exactly-once.ts';
import type { LakeFileState } from '../../src/lake.ts';
import { LakeError } from '../../src/lake-error.ts';
import { expectLakeError } from '../lake-conformance.ts';

const NO_WAIT: BackoffPolicy = {
  maxRetries: 5,
  initialIntervalMs: 0,
  maxIntervalMs: 0,
  maxElapsedMs: 10_000,
  jitter: 0,
};
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/**
 * A file with ADLS's append/flush rules and scripted failures: each entry of
 * `failures` says what happens to the next request of that kind — fail before
 * doing it, or do it and lose the answer.
 */
class ScriptedFile implements AppendRequests {
  committed = bytes('head');
  version = 1;
  staged = new Map<number, Uint8Array>();
  readonly calls: string[] = [];
  readonly failures: Partial<Record<'stage' | 'commit' | 'stat' | 'read', ('before' | 'after')[]>> =
    {};

  async #request<T>(kind: 'stage' | 'commit' | 'stat' | 'read', run: () => T): Promise<T> {
    this.calls.push(kind);
    const failure = this.failures[kind]?.shift();
    if (failure === 'before') throw new LakeError('UNAVAILABLE', `${kind} failed`);
    const result = run();
    if (failure === 'after') throw new LakeError('UNAVAILABLE', `${kind} answer lost`);
    return result;
  }

  state(): LakeFileState {
    return { length: this.committed.length, version: `v${this.version}` };
  }

  stage(offset: number, data: Uint8Array) {
    return this.#request('stage', () => void this.staged.set(offset, data));
  }

  commit(position: number, ifVersion: string) {
    return this.#request('commit', () => {
      if (ifVersion !== `v${this.version}`) throw new LakeError('CONFLICT', 'ConditionNotMet');
      const data = this.staged.get(this.committed.length) ?? new Uint8Array(0);
      if (this.committed.length + data.length !== position)
        throw new LakeError('CONFLICT', 'InvalidFlushPosition');
      this.committed = new Uint8Array([...this.committed, ...data]);
      this.staged.clear();
      this.version += 1;
      return this.state();
    });
  }

  stat() {
    return this.#request('stat', () => this.state());
  }

  read(offset: number, length: number) {
    return this.#request('read', () => this.committed.slice(offset, offset + length));
  }

  /** Another writer commits behind our back. */
  commitByOther(data: Uint8Array): void {
    this.committed = new Uint8Array([...this.committed, ...data]);
    this.version += 1;
  }
}

const intent = (data: string, ifVersion = 'v1') => ({
  path: 'p.jsonl',
  offset: 4,
  data: bytes(data),
  ifVersion,
  close: false,
});

describe('append exactly once', () => {
  it('stages and commits in two requests when nothing fails', async () => {
    const file = new ScriptedFile();
    expect(await appendExactlyOnce(intent('line\n'), file, NO_WAIT)).toEqual({
      length: 9,
      version: 'v2',
    });
    expect(file.calls).toEqual(['stage', 'commit']);
  });

  it('reports a commit whose answer was lost as done, without committing again', async () => {
    const file = new ScriptedFile();
    file.failures.commit = ['after'];
    expect(await appendExactlyOnce(intent('line\n'), file, NO_WAIT)).toEqual({
      length: 9,
      version: 'v2',
    });
    expect(new TextDecoder().decode(file.committed)).toBe('headline\n');
    expect(file.calls).toEqual(['stage', 'commit', 'stat', 'read']);
  });

  it('stages and commits again when the failed attempt committed nothing', async () => {
    const file = new ScriptedFile();
    file.failures.commit = ['before'];
    file.failures.stage = ['after'];
    expect(await appendExactlyOnce(intent('line\n'), file, NO_WAIT)).toEqual({
      length: 9,
      version: 'v2',
    });
    expect(file.calls).toEqual(['stage', 'stat', 'stage', 'commit', 'stat', 'stage', 'commit']);
    expect(new TextDecoder().decode(file.committed)).toBe('headline\n');
  });

  it('keeps retrying when the check itself fails', async () => {
    const file = new ScriptedFile();
    file.failures.commit = ['after'];
    file.failures.stat = ['before', 'before'];
    expect((await appendExactlyOnce(intent('x'), file, NO_WAIT)).length).toBe(5);
    expect(file.committed.length).toBe(5);
  });

  it('reports a CONFLICT when another writer committed different bytes in the meantime', async () => {
    const file = new ScriptedFile();
    file.failures.commit = ['before'];
    const append = appendExactlyOnce(intent('ours\n'), file, NO_WAIT);
    file.commitByOther(bytes('them\n'));
    await expectLakeError(append, 'CONFLICT');
    expect(new TextDecoder().decode(file.committed)).toBe('headthem\n');
  });

  it('reports a CONFLICT at once for a stale version, without retrying', async () => {
    const file = new ScriptedFile();
    await expectLakeError(appendExactlyOnce(intent('x', 'v0'), file, NO_WAIT), 'CONFLICT');
    expect(file.calls).toEqual(['stage', 'commit']);
  });

  it('commits an empty closing append without staging', async () => {
    const file = new ScriptedFile();
    expect(await appendExactlyOnce({ ...intent(''), close: true }, file, NO_WAIT)).toEqual({
      length: 4,
      version: 'v2',
    });
    expect(file.calls).toEqual(['commit']);
  });

  it('gives up with the last retryable error when the policy runs out', async () => {
    const file = new ScriptedFile();
    file.failures.stage = ['before', 'before', 'before'];
    file.failures.stat = [];
    await expectLakeError(
      appendExactlyOnce(intent('x'), file, { ...NO_WAIT, maxRetries: 2 }),
      'UNAVAILABLE',
    );
    expect(file.committed.length).toBe(4);
  });
});
