import { createHash } from 'node:crypto';
import { StorageError, errors } from '../http/storage-error.ts';
import { nextEtag } from './clock.ts';
import { requireConditions, type ConditionHeaders } from './conditions.ts';
import type { CrashPoint } from './journal.ts';
import type { LakeStore } from './lake-store.ts';
import { applyLeaseAction, checkLeaseAccess, type LeaseRecord } from './leases.ts';
import { addRange, covers, overlaps, removeRange } from './staged-ranges.ts';
import type { PathEntry, PathHttpHeaders } from './types.ts';

/**
 * Append and flush, as Path - Update does them
 * (https://learn.microsoft.com/rest/api/storageservices/datalakestoragegen2/path/update):
 *
 * - an append carries a position at or beyond the committed length and may
 *   arrive in any order; its bytes are staged, invisible to readers;
 * - a flush at `position` commits only when the staged bytes run without a
 *   gap from the committed length to exactly `position`, else 400
 *   InvalidFlushPosition; it gives the file a new ETag; staged bytes beyond
 *   `position` are dropped unless `retainUncommittedData=true`.
 */

/** The `x-ms-lease-action` part of an append or flush, with its headers. */
export interface WriteLease {
  leaseId: string | undefined;
  action: string | undefined;
  proposedLeaseId: string | undefined;
  duration: string | undefined;
}

/** What an append asks for. */
export interface AppendRequest {
  position: number;
  chunks: Buffer[];
  length: number;
  /** Base64 MD5 of the body (`Content-MD5`), checked when given. */
  contentMd5: string | undefined;
  lease: WriteLease;
  /** `flush=true`: commit right after the append. */
  flush: boolean;
  /** Fault injection: freeze at this point of the journal write (see `Journal`). */
  crashPoint?: CrashPoint;
}

/** What a flush asks for. */
export interface FlushRequest {
  position: number;
  retainUncommittedData: boolean;
  close: boolean;
  conditions: ConditionHeaders;
  /** HTTP properties to set with the flush (only those given change). */
  headers: PathHttpHeaders;
  lease: WriteLease;
  /** Fault injection: freeze at this point of the journal write (see `Journal`). */
  crashPoint?: CrashPoint;
}

/** Appends bytes at a position; flushes too when asked. */
export function appendData(
  store: LakeStore,
  fsName: string,
  name: string,
  request: AppendRequest,
): PathEntry {
  const entry = writableFile(store, fsName, name);
  const now = Date.now();
  const { before, after } = resolveLease(entry.lease, request.lease, now, request.flush);
  checkLeaseAccess(before, effectiveLeaseId(request.lease), now, { blob: false, write: true });
  if (request.position < entry.committedLength) throw errors.invalidFlushPosition();
  if (request.length === 0 && !request.flush) throw errors.invalidHeaderValue('Content-Length');
  if (request.contentMd5 !== undefined) {
    const hash = createHash('md5');
    for (const chunk of request.chunks) hash.update(chunk);
    if (hash.digest('base64') !== request.contentMd5) throw errors.md5Mismatch();
  }
  const dataId = entry.dataId;
  if (dataId === null) throw errors.resourceTypeMismatch();
  const end = request.position + request.length;
  let staged = entry.staged;
  if (overlaps(staged, request.position, end)) {
    // Forget the old bytes before overwriting them, so a crash mid-write can
    // never leave a range that claims bytes it no longer holds.
    staged = removeRange(staged, request.position, end);
    store.commit({
      t: 'path.put',
      fs: fsName,
      entries: [withLease({ ...entry, staged }, entry.lease)],
    });
    store.persistNow();
  }
  if (request.length > 0) store.data.write(dataId, request.position, request.chunks);
  let updated: PathEntry = withLease(
    { ...entry, staged: request.length > 0 ? addRange(staged, request.position, end) : staged },
    before,
  );
  if (request.flush) {
    updated = commitFlush(
      updated,
      end,
      { retainUncommittedData: false, close: false, headers: {} },
      now,
    );
  }
  updated = withLease(updated, after);
  store.commit({ t: 'path.put', fs: fsName, entries: [updated] }, request.crashPoint);
  return updated;
}

/** Commits the staged bytes up to `position`. */
export function flushData(
  store: LakeStore,
  fsName: string,
  name: string,
  request: FlushRequest,
): PathEntry {
  const entry = writableFile(store, fsName, name);
  requireConditions(entry, request.conditions);
  const now = Date.now();
  const { before, after } = resolveLease(entry.lease, request.lease, now, true);
  checkLeaseAccess(before, effectiveLeaseId(request.lease), now, { blob: false, write: true });
  const updated = withLease(commitFlush(entry, request.position, request, now), after);
  store.commit({ t: 'path.put', fs: fsName, entries: [updated] }, request.crashPoint);
  return updated;
}

function commitFlush(
  entry: PathEntry,
  position: number,
  options: { retainUncommittedData: boolean; close: boolean; headers: PathHttpHeaders },
  now: number,
): PathEntry {
  if (position < entry.committedLength || !covers(entry.staged, entry.committedLength, position)) {
    throw errors.invalidFlushPosition();
  }
  return {
    ...entry,
    committedLength: position,
    staged: options.retainUncommittedData ? removeRange(entry.staged, 0, position) : [],
    etag: nextEtag(now),
    lastModified: now,
    closed: options.close,
    headers: mergedHeaders(entry.headers, options.headers),
  };
}

function writableFile(store: LakeStore, fsName: string, name: string): PathEntry {
  const entry = store.path(fsName, name, false);
  if (entry.kind !== 'file') throw errors.resourceTypeMismatch();
  return entry;
}

/** The lease id the request acts with: the proposed one when it acquires, else `x-ms-lease-id`. */
function effectiveLeaseId(lease: WriteLease): string | undefined {
  return lease.action === 'acquire' || lease.action === 'acquire-release'
    ? lease.proposedLeaseId
    : lease.leaseId;
}

/**
 * The lease before the write (after acquiring or renewing) and after it
 * (released for `release` / `acquire-release`), per `x-ms-lease-action`.
 */
function resolveLease(
  current: LeaseRecord | undefined,
  lease: WriteLease,
  now: number,
  flushes: boolean,
): { before: LeaseRecord | undefined; after: LeaseRecord | undefined } {
  const base = {
    leaseId: lease.leaseId,
    proposedLeaseId: lease.proposedLeaseId,
    breakPeriodSeconds: undefined,
  };
  switch (lease.action) {
    case undefined:
      return { before: current, after: current };
    case 'acquire':
    case 'acquire-release': {
      if (lease.proposedLeaseId === undefined)
        throw errors.missingRequiredHeader('x-ms-proposed-lease-id');
      if (lease.action === 'acquire-release' && !flushes)
        throw errors.invalidHeaderValue('x-ms-lease-action');
      // x-ms-lease-duration is required to acquire (-1 or 15..60 seconds), as
      // on Path - Lease: without it the service answers 400 MissingRequiredHeader.
      const acquired = applyLeaseAction(
        current,
        { ...base, action: 'acquire', durationSeconds: lease.duration },
        now,
        'dfs',
      ).lease;
      return { before: acquired, after: lease.action === 'acquire' ? acquired : undefined };
    }
    case 'auto-renew': {
      const renewed = applyLeaseAction(
        current,
        { ...base, action: 'renew', durationSeconds: undefined },
        now,
        'dfs',
      ).lease;
      return { before: renewed, after: renewed };
    }
    case 'release': {
      if (!flushes) throw errors.invalidHeaderValue('x-ms-lease-action');
      if (lease.leaseId === undefined) throw errors.missingRequiredHeader('x-ms-lease-id');
      return { before: current, after: undefined };
    }
    default:
      throw new StorageError(
        400,
        'InvalidHeaderValue',
        'The value for one of the HTTP headers is not in the correct format. (x-ms-lease-action)',
      );
  }
}

function withLease(entry: PathEntry, lease: LeaseRecord | undefined): PathEntry {
  // Most writes leave the lease as it was: no copy then.
  if (entry.lease === lease) return entry;
  const { lease: _old, ...rest } = entry;
  return lease ? { ...rest, lease } : rest;
}

/** `entry`'s HTTP properties with the ones a flush sets (only those given change). */
function mergedHeaders(current: PathHttpHeaders, given: PathHttpHeaders): PathHttpHeaders {
  let merged: PathHttpHeaders | undefined;
  for (const [name, value] of Object.entries(given) as Array<[keyof PathHttpHeaders, string]>) {
    if (value === undefined) continue;
    merged ??= { ...current };
    merged[name] = value;
  }
  return merged ?? current;
}
