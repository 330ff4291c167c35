import { randomUUID } from 'node:crypto';
import { StorageError } from '../http/storage-error.ts';

/**
 * The lease of one file, as the Blob and DFS endpoints share it. Times are
 * wall-clock milliseconds so a lease survives an emulator restart the way a
 * service lease survives a front-end failover.
 *
 * State machine: https://learn.microsoft.com/rest/api/storageservices/lease-blob
 * (the DataLake SDK's lease client speaks the Blob `comp=lease` API; the DFS
 * `Path - Lease` operation follows the same rules).
 */
export interface LeaseRecord {
  id: string;
  /** Seconds, or -1 for an infinite lease. */
  durationSeconds: number;
  /** When a fixed lease expires; `null` for an infinite lease. */
  expiresAt: number | null;
  /** `leased` while held, `breaking` during a break period, `broken` after, `released` when let go. */
  phase: 'leased' | 'breaking' | 'broken' | 'released';
  /** When a breaking lease becomes broken. */
  breakAt: number | null;
}

/** The `x-ms-lease-state` values. */
export type LeaseState = 'available' | 'leased' | 'expired' | 'breaking' | 'broken';

/** The lease's state at `now`. */
export function leaseState(lease: LeaseRecord | undefined, now: number): LeaseState {
  if (!lease || lease.phase === 'released') return 'available';
  if (lease.phase === 'broken') return 'broken';
  if (lease.phase === 'breaking')
    return lease.breakAt !== null && lease.breakAt <= now ? 'broken' : 'breaking';
  if (lease.expiresAt !== null && lease.expiresAt <= now) return 'expired';
  return 'leased';
}

/** Response headers describing the lease, as Get Blob Properties sends them. */
export function leaseHeaders(lease: LeaseRecord | undefined, now: number): Record<string, string> {
  const state = leaseState(lease, now);
  const headers: Record<string, string> = {
    'x-ms-lease-state': state,
    'x-ms-lease-status': state === 'leased' || state === 'breaking' ? 'locked' : 'unlocked',
  };
  if (state === 'leased' && lease)
    headers['x-ms-lease-duration'] = lease.durationSeconds === -1 ? 'infinite' : 'fixed';
  return headers;
}

/** What a lease operation asks for. */
export interface LeaseRequest {
  action: string;
  leaseId: string | undefined;
  proposedLeaseId: string | undefined;
  durationSeconds: string | undefined;
  breakPeriodSeconds: string | undefined;
}

/** The outcome of a lease operation: the new lease and the headers to answer with. */
export interface LeaseOutcome {
  lease: LeaseRecord | undefined;
  status: number;
  headers: Record<string, string>;
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function parseDuration(value: string | undefined): number {
  if (value === undefined)
    throw new StorageError(
      400,
      'MissingRequiredHeader',
      "An HTTP header that's mandatory for this request is not specified. (x-ms-lease-duration)",
    );
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || (seconds !== -1 && (seconds < 15 || seconds > 60))) {
    throw new StorageError(
      400,
      'InvalidHeaderValue',
      'The value for one of the HTTP headers is not in the correct format. (x-ms-lease-duration)',
    );
  }
  return seconds;
}

function parseLeaseId(value: string | undefined, header: string): string {
  if (value === undefined)
    throw new StorageError(
      400,
      'MissingRequiredHeader',
      `An HTTP header that's mandatory for this request is not specified. (${header})`,
    );
  if (!GUID.test(value))
    throw new StorageError(
      400,
      'InvalidHeaderValue',
      `The value for one of the HTTP headers is not in the correct format. (${header})`,
    );
  return value.toLowerCase();
}

function conflict(code: string, message: string): StorageError {
  return new StorageError(409, code, message);
}

const notPresent = (): StorageError =>
  conflict('LeaseNotPresentWithLeaseOperation', 'There is currently no lease on the resource.');
const mismatch = (): StorageError =>
  conflict(
    'LeaseIdMismatchWithLeaseOperation',
    'The lease ID specified did not match the lease ID for the resource with the specified lease operation.',
  );

/**
 * Applies one lease operation (acquire, renew, change, release, break) at
 * `now`. `route` is the endpoint that asked: the Blob `comp=lease` API (what
 * the DataLake SDK's lease client calls) or DFS Path - Lease; they differ in
 * one answer, see `break`.
 */
export function applyLeaseAction(
  current: LeaseRecord | undefined,
  request: LeaseRequest,
  now: number,
  route: 'blob' | 'dfs' = 'blob',
): LeaseOutcome {
  const state = leaseState(current, now);
  switch (request.action) {
    case 'acquire': {
      const durationSeconds = parseDuration(request.durationSeconds);
      const id =
        request.proposedLeaseId === undefined
          ? randomUUID()
          : parseLeaseId(request.proposedLeaseId, 'x-ms-proposed-lease-id');
      if ((state === 'leased' || state === 'breaking') && current && current.id !== id) {
        throw conflict('LeaseAlreadyPresent', 'There is already a lease present.');
      }
      if (state === 'breaking') {
        throw conflict(
          'LeaseIsBreakingAndCannotBeAcquired',
          'The lease ID matched, but the lease is currently in breaking state and cannot be acquired until it is broken.',
        );
      }
      const lease = newLease(id, durationSeconds, now);
      return { lease, status: 201, headers: { 'x-ms-lease-id': id } };
    }
    case 'renew': {
      const id = parseLeaseId(request.leaseId, 'x-ms-lease-id');
      if (state === 'available' || !current) throw notPresent();
      if (current.id !== id) throw mismatch();
      if (state === 'breaking' || state === 'broken') {
        throw conflict(
          'LeaseIsBrokenAndCannotBeRenewed',
          'The lease ID matched, but the lease has been broken explicitly and cannot be renewed.',
        );
      }
      return {
        lease: newLease(id, current.durationSeconds, now),
        status: 200,
        headers: { 'x-ms-lease-id': id },
      };
    }
    case 'change': {
      const id = parseLeaseId(request.leaseId, 'x-ms-lease-id');
      const proposed = parseLeaseId(request.proposedLeaseId, 'x-ms-proposed-lease-id');
      if (state === 'available' || state === 'expired' || state === 'broken' || !current)
        throw notPresent();
      if (current.id !== id && current.id !== proposed) throw mismatch();
      if (state === 'breaking') {
        throw conflict(
          'LeaseIsBreakingAndCannotBeChanged',
          'The lease ID matched, but the lease is currently in breaking state and cannot be changed.',
        );
      }
      return {
        lease: { ...current, id: proposed },
        status: 200,
        headers: { 'x-ms-lease-id': proposed },
      };
    }
    case 'release': {
      const id = parseLeaseId(request.leaseId, 'x-ms-lease-id');
      if (state === 'available' || !current) throw notPresent();
      if (current.id !== id) throw mismatch();
      return { lease: undefined, status: 200, headers: {} };
    }
    case 'break': {
      if (state === 'available' || !current) throw notPresent();
      // Lease Blob breaks a broken lease again (202). The DFS API's error table
      // (Path - Lease, "Other Status Codes":
      // https://learn.microsoft.com/rest/api/storageservices/datalakestoragegen2/path/lease)
      // names 409 LeaseIsAlreadyBroken for it, so Path - Lease answers that.
      if (state === 'broken' && route === 'dfs') {
        throw conflict(
          'LeaseIsAlreadyBroken',
          'The lease has already been broken and cannot be broken again.',
        );
      }
      if (state === 'broken' || state === 'expired') {
        return {
          lease: { ...current, phase: 'broken', breakAt: now },
          status: 202,
          headers: { 'x-ms-lease-time': '0' },
        };
      }
      let periodSeconds: number;
      if (request.breakPeriodSeconds !== undefined) {
        periodSeconds = Number(request.breakPeriodSeconds);
        if (!Number.isInteger(periodSeconds) || periodSeconds < 0 || periodSeconds > 60) {
          throw new StorageError(
            400,
            'InvalidHeaderValue',
            'The value for one of the HTTP headers is not in the correct format. (x-ms-lease-break-period)',
          );
        }
      } else {
        // Without a period a fixed lease breaks when it would have expired, an infinite one at once.
        periodSeconds =
          current.expiresAt === null ? 0 : Math.ceil((current.expiresAt - now) / 1000);
      }
      let breakAt = now + periodSeconds * 1000;
      if (current.expiresAt !== null) breakAt = Math.min(breakAt, current.expiresAt);
      if (state === 'breaking' && current.breakAt !== null)
        breakAt = Math.min(breakAt, current.breakAt);
      const remaining = Math.max(0, Math.ceil((breakAt - now) / 1000));
      const lease: LeaseRecord = {
        ...current,
        phase: remaining === 0 ? 'broken' : 'breaking',
        breakAt,
      };
      return { lease, status: 202, headers: { 'x-ms-lease-time': String(remaining) } };
    }
    default:
      throw new StorageError(
        400,
        'InvalidHeaderValue',
        'The value for one of the HTTP headers is not in the correct format. (x-ms-lease-action)',
      );
  }
}

function newLease(id: string, durationSeconds: number, now: number): LeaseRecord {
  return {
    id,
    durationSeconds,
    expiresAt: durationSeconds === -1 ? null : now + durationSeconds * 1000,
    phase: 'leased',
    breakAt: null,
  };
}

/**
 * Refuses a write (or a read that names a lease) that does not hold the
 * file's active lease — the single-writer fencing the writer relies on.
 * Status 412 with the Blob or DFS code, as each endpoint answers.
 */
export function checkLeaseAccess(
  lease: LeaseRecord | undefined,
  leaseIdHeader: string | undefined,
  now: number,
  options: { blob: boolean; write: boolean },
): void {
  const state = leaseState(lease, now);
  const held = state === 'leased' || state === 'breaking';
  const given = leaseIdHeader?.toLowerCase();
  if (held && lease) {
    if (given === undefined) {
      if (!options.write) return;
      throw new StorageError(
        412,
        'LeaseIdMissing',
        'There is currently a lease on the resource and no lease ID was specified in the request.',
      );
    }
    if (given !== lease.id) {
      throw options.blob
        ? new StorageError(
            412,
            'LeaseIdMismatchWithBlobOperation',
            'The lease ID specified did not match the lease ID for the blob.',
          )
        : new StorageError(
            412,
            'LeaseIdMismatch',
            'The lease ID specified did not match the lease ID for the resource.',
          );
    }
    return;
  }
  if (given === undefined) return;
  if (state === 'expired' && lease && lease.id === given) {
    throw new StorageError(
      412,
      'LeaseLost',
      'A lease ID was specified, but the lease for the resource has expired.',
    );
  }
  throw options.blob
    ? new StorageError(
        412,
        'LeaseNotPresentWithBlobOperation',
        'There is currently no lease on the blob.',
      )
    : new StorageError(412, 'LeaseNotPresent', 'There is currently no lease on the resource.');
}
