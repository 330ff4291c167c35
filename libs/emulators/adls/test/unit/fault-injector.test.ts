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
});
