import { describe, expect, it } from 'vitest';
import { leaseTimings, resolveBullmqOptions } from '../../src/bullmq/bullmq-options.ts';

const valid = { redisUrl: 'redis://127.0.0.1:6379', queueName: 'orders', partitionCount: 8 };

describe('BullMQ transport options', () => {
  it('fills in defaults', () => {
    const resolved = resolveBullmqOptions(valid);
    expect(resolved).toMatchObject({
      prefix: 'tributary',
      operationTimeoutMs: 5000,
      pollIntervalMs: 100,
    });
  });

  it('keeps given values over defaults, ignoring undefined ones', () => {
    const resolved = resolveBullmqOptions({ ...valid, prefix: 'x', pollIntervalMs: undefined });
    expect([resolved.prefix, resolved.pollIntervalMs]).toEqual(['x', 100]);
  });

  it.each([
    ['partitionCount', { partitionCount: 0 }],
    ['partitionCount', { partitionCount: 2.5 }],
    ['queueName', { queueName: 'a:b' }],
    ['queueName', { queueName: '' }],
    ['operationTimeoutMs', { operationTimeoutMs: 0 }],
    ['pollIntervalMs', { pollIntervalMs: -1 }],
    ['maxBatchBytes', { maxBatchBytes: 0 }],
  ])('names %s when it cannot work', (field, override) => {
    expect(() => resolveBullmqOptions({ ...valid, ...override })).toThrow(field);
  });
});

describe('leaseTimings', () => {
  it.each([[300], [1500], [30_000], [120_000]])(
    'for a %i ms lease: renews before the lock expires, and the lock expires before the lease',
    (ttl) => {
      const t = leaseTimings(ttl);
      expect(t.renewIntervalMs).toBeLessThan(t.lockDurationMs);
      expect(t.lockDurationMs).toBeLessThan(t.leaseTtlMs);
      // An owner that died right after renewing: its lock is gone before its lease.
      expect(t.lockDurationMs + t.renewIntervalMs).toBeLessThanOrEqual(t.leaseTtlMs);
      expect(t.stalledIntervalMs).toBeGreaterThan(0);
    },
  );

  it('refuses leases too short to renew reliably', () => {
    expect(() => leaseTimings(100)).toThrow('leaseTtlMs');
  });
});
