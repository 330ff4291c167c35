import type { StorageResponse } from '../http/response.ts';
import { errors } from '../http/storage-error.ts';
import { httpDate } from '../store/clock.ts';
import { appendData, flushData, type WriteLease } from '../store/file-writes.ts';
import { booleanParam, conditionHeaders, dfsHttpHeaders, integerParam } from './request-headers.ts';
import { refuseUnsupportedHeaders } from './path-routes.ts';
import { readBody, type RouteContext } from './route-context.ts';

/** Path - Update `action=append` and `action=flush`. */

function writeLease(ctx: RouteContext): WriteLease {
  const action = ctx.request.header('x-ms-lease-action');
  return {
    leaseId: ctx.request.header('x-ms-lease-id'),
    action: action?.toLowerCase(),
    proposedLeaseId: ctx.request.header('x-ms-proposed-lease-id'),
    duration: ctx.request.header('x-ms-lease-duration'),
  };
}

/** Stages the body at `position` (and commits it when `flush=true`). */
export async function appendPath(ctx: RouteContext): Promise<StorageResponse> {
  const { request } = ctx;
  refuseUnsupportedHeaders(ctx);
  const position = integerParam(request, 'position', true);
  const flush = booleanParam(request, 'flush', false);
  // Look the file up before reading the body, so a missing file fails fast.
  ctx.store.path(request.filesystem, request.pathName, false);
  const { chunks, length } = await readBody(request);
  const declared = request.header('content-length');
  if (declared !== undefined && Number(declared) !== length)
    throw errors.invalidHeaderValue('Content-Length');
  const entry = appendData(ctx.store, request.filesystem, request.pathName, {
    position,
    chunks,
    length,
    contentMd5: request.header('content-md5'),
    lease: writeLease(ctx),
    flush,
    crashPoint: ctx.crashPoint,
  });
  const headers: Record<string, string> = { 'x-ms-request-server-encrypted': 'false' };
  if (flush)
    Object.assign(headers, { ETag: entry.etag, 'Last-Modified': httpDate(entry.lastModified) });
  return { status: 202, headers };
}

/** Commits staged data up to `position`. */
export function flushPath(ctx: RouteContext): StorageResponse {
  const { request } = ctx;
  refuseUnsupportedHeaders(ctx);
  const length = request.header('content-length');
  if (length !== undefined && length !== '0') throw errors.contentLengthMustBeZero();
  const position = integerParam(request, 'position', true);
  const entry = flushData(ctx.store, request.filesystem, request.pathName, {
    position,
    retainUncommittedData: booleanParam(request, 'retainUncommittedData', false),
    close: booleanParam(request, 'close', false),
    conditions: conditionHeaders(request),
    headers: dfsHttpHeaders(request),
    lease: writeLease(ctx),
    crashPoint: ctx.crashPoint,
  });
  return {
    status: 200,
    headers: {
      ETag: entry.etag,
      'Last-Modified': httpDate(entry.lastModified),
      'x-ms-request-server-encrypted': 'false',
    },
  };
}
