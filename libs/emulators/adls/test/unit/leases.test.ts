import { describe, expect, it } from 'vitest';
import {
  applyLeaseAction,
  checkLeaseAccess,
  leaseState,
  type LeaseRecord,
  type LeaseRequest,
} from '../../src/store/leases.ts';

const ID = '11111111-1111-1111-1111-111111111111';
const OTHER = '22222222-2222-2222-2222-222222222222';
const T0 = 1_000_000;

function request(action: string, extra: Partial<LeaseRequest> = {}): LeaseRequest {
  return {
    action,
    leaseId: undefined,
    proposedLeaseId: undefined,
    durationSeconds: undefined,
    breakPeriodSeconds: undefined,
    ...extra,
  };
}

function acquired(duration = '15'): LeaseRecord {
  const lease = applyLeaseAction(
    undefined,
    request('acquire', { proposedLeaseId: ID, durationSeconds: duration }),
    T0,
  ).lease;
  if (!lease) throw new Error('no lease');
  return lease;
}

describe('lease state machine', () => {
  it('expires a fixed lease after its duration', () => {
    const lease = acquired('15');
    expect(leaseState(lease, T0 + 14_999)).toBe('leased');
    expect(leaseState(lease, T0 + 15_000)).toBe('expired');
  });

  it('lets another client acquire an expired lease but not a held one', () => {
    const lease = acquired('15');
    expect(() =>
      applyLeaseAction(
        lease,
        request('acquire', { proposedLeaseId: OTHER, durationSeconds: '15' }),
        T0 + 1,
      ),
    ).toThrow(expect.objectContaining({ status: 409, code: 'LeaseAlreadyPresent' }));
    expect(
      applyLeaseAction(
        lease,
        request('acquire', { proposedLeaseId: OTHER, durationSeconds: '15' }),
        T0 + 16_000,
      ).lease?.id,
    ).toBe(OTHER);
  });

  it.each(['14', '61', '0', 'x'])('refuses duration %s with 400', (duration) => {
    expect(() =>
      applyLeaseAction(undefined, request('acquire', { durationSeconds: duration }), T0),
    ).toThrow(expect.objectContaining({ status: 400, code: 'InvalidHeaderValue' }));
  });

  it('breaks an infinite lease at once and refuses to renew a broken one', () => {
    const lease = acquired('-1');
    const broken = applyLeaseAction(lease, request('break'), T0 + 1);
    expect(broken.headers['x-ms-lease-time']).toBe('0');
    expect(leaseState(broken.lease, T0 + 1)).toBe('broken');
    expect(() => applyLeaseAction(broken.lease, request('renew', { leaseId: ID }), T0 + 2)).toThrow(
      expect.objectContaining({ code: 'LeaseIsBrokenAndCannotBeRenewed' }),
    );
  });

  it('breaks a broken lease again on the Blob route (202) but answers 409 LeaseIsAlreadyBroken on the DFS route', () => {
    const broken = applyLeaseAction(acquired('-1'), request('break'), T0 + 1).lease;
    const again = applyLeaseAction(broken, request('break'), T0 + 2, 'blob');
    expect(again.status).toBe(202);
    expect(leaseState(again.lease, T0 + 2)).toBe('broken');
    expect(() => applyLeaseAction(broken, request('break'), T0 + 2, 'dfs')).toThrow(
      expect.objectContaining({ status: 409, code: 'LeaseIsAlreadyBroken' }),
    );
  });

  it('still breaks a lease that is breaking on the DFS route, keeping the earlier break time', () => {
    const breaking = applyLeaseAction(
      acquired('60'),
      request('break', { breakPeriodSeconds: '30' }),
      T0,
    ).lease;
    const again = applyLeaseAction(
      breaking,
      request('break', { breakPeriodSeconds: '50' }),
      T0 + 1_000,
      'dfs',
    );
    expect(again.headers['x-ms-lease-time']).toBe('29');
  });

  it('refuses write access without the lease id (412) and with a stale one after expiry (LeaseLost)', () => {
    const lease = acquired('15');
    expect(() => checkLeaseAccess(lease, undefined, T0 + 1, { blob: false, write: true })).toThrow(
      expect.objectContaining({ status: 412, code: 'LeaseIdMissing' }),
    );
    expect(() => checkLeaseAccess(lease, OTHER, T0 + 1, { blob: true, write: true })).toThrow(
      expect.objectContaining({ status: 412, code: 'LeaseIdMismatchWithBlobOperation' }),
    );
    expect(() => checkLeaseAccess(lease, ID, T0 + 1, { blob: false, write: true })).not.toThrow();
    expect(() =>
      checkLeaseAccess(lease, undefined, T0 + 1, { blob: false, write: false }),
    ).not.toThrow();
    expect(() => checkLeaseAccess(lease, ID, T0 + 20_000, { blob: false, write: true })).toThrow(
      expect.objectContaining({ code: 'LeaseLost' }),
    );
  });
});
