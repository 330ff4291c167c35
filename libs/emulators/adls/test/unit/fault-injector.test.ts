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
    null,
  ])('refuses the invalid rule %o', (rule) => {
    expect(() => validateFaultRule(rule)).toThrow(TypeError);
  });
});
