import { describe, expect, it } from 'vitest';
import { FaultInjector, validateFaultRule } from '../../src/faults/fault-injector.ts';

describe('fault injector', () => {
  it('fires a reset at the chosen matching request only', () => {
    const faults = new FaultInjector();
    faults.resetConnectionAt(3, ['path.append']);
    const kinds = ['path.append', 'path.read', 'path.append', 'path.append', 'path.append'].map(
      (op) => faults.decide(op as 'path.append', '/a/b/c').failure?.kind ?? '-',
    );
    expect(kinds).toEqual(['-', '-', '-', 'reset', '-']);
  });

  it('limits failures to `times` and adds latency from every matching rule', () => {
    const faults = new FaultInjector();
    faults.failNext(2, 503);
    faults.setLatency(10);
    const decisions = [1, 2, 3].map(() => faults.decide('path.flush', '/x'));
    expect(decisions.map((d) => d.failure?.kind ?? '-')).toEqual(['status', 'status', '-']);
    expect(decisions.every((d) => d.latencyMs === 10)).toBe(true);
  });

  it('matches on path text', () => {
    const faults = new FaultInjector();
    faults.add({ status: 500, pathContains: '/hot/' });
    expect(faults.decide('path.read', '/acct/fs/cold/x').failure).toBeUndefined();
    expect(faults.decide('path.read', '/acct/fs/hot/x').failure).toEqual({
      kind: 'status',
      status: 500,
      phase: 'before',
    });
  });

  it.each([
    { status: 404 },
    { probability: 2 },
    { latencyMs: -1 },
    { operations: ['nope'] },
    { reset: true, status: 500 },
    { extra: 1 },
    { crash: 'mid-journal-write' },
    { crash: 'mid-journal-write', operations: ['path.read'] },
    { crash: 'mid-journal-write', operations: ['path.flush'], status: 500 },
    { crash: 'mid-journal-write', operations: ['path.flush'], phase: 'after' },
    { crash: 'sometime', operations: ['path.flush'] },
    { hold: 'yes' },
    { hold: true, crash: 'mid-journal-write', operations: ['path.flush'] },
    null,
  ])('refuses the invalid rule %o', (rule) => {
    expect(() => validateFaultRule(rule)).toThrow(TypeError);
  });

  it('hands a crash point to the chosen flush only', () => {
    const faults = new FaultInjector();
    faults.add({ operations: ['path.flush'], crash: 'after-journal-write', skip: 1, times: 1 });
    const failures = ['path.flush', 'path.append', 'path.flush', 'path.flush'].map(
      (op) => faults.decide(op as 'path.flush', '/a/b/c').failure,
    );
    expect(failures).toEqual([
      undefined,
      undefined,
      { kind: 'crash', point: 'after-journal-write', phase: 'before' },
      undefined,
    ]);
  });

  it('holds a request until its rule is removed, then lets it go on', async () => {
    const faults = new FaultInjector();
    const id = faults.add({ operations: ['path.rename'], hold: true, phase: 'after', times: 1 });
    const held = faults.decide('path.rename', '/a/fs/x');
    expect(held.hold?.phase).toBe('after');
    expect(faults.decide('path.rename', '/a/fs/x').hold).toBeUndefined();
    expect(faults.list()[0]?.fired).toBe(1);
    let outcome: string | undefined;
    void held.hold?.released.then((o) => (outcome = o));
    await Promise.resolve();
    expect(outcome).toBeUndefined();
    expect(faults.remove(id)).toBe(true);
    await expect(held.hold?.released).resolves.toBe('go');
  });

  it('drops the requests an abandoned rule holds, and only those', async () => {
    const faults = new FaultInjector();
    const flushes = faults.add({ operations: ['path.flush'], hold: true });
    const reads = faults.add({ operations: ['path.read'], hold: true });
    const flush = faults.decide('path.flush', '/a/fs/x').hold;
    const read = faults.decide('path.read', '/a/fs/x').hold;
    expect(flush?.phase).toBe('before');
    expect(faults.abandon(flushes)).toBe(true);
    expect(faults.abandon(flushes)).toBe(false);
    await expect(flush?.released).resolves.toBe('drop');
    expect(faults.list().map((rule) => rule.id)).toEqual([reads]);
    faults.clear();
    await expect(read?.released).resolves.toBe('go');
  });
});
