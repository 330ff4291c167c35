import type { StorageResponse } from '../http/response.ts';
import { StorageError, errors } from '../http/storage-error.ts';
import { httpDate } from '../store/clock.ts';
import { canonicalPathName } from '../store/names.ts';
import { renamePath as movePath } from '../store/path-rename.ts';
import type { PathEntry } from '../store/types.ts';
import {
  blobHttpHeaders,
  blobMetadata,
  booleanParam,
  conditionHeaders,
  dfsHttpHeaders,
  dfsProperties,
  sourceConditionHeaders,
} from './request-headers.ts';
import type { RouteContext } from './route-context.ts';

/** Path - Create, Path - Delete, rename, properties and leases. */

function entryHeaders(entry: PathEntry): Record<string, string> {
  return { ETag: entry.etag, 'Last-Modified': httpDate(entry.lastModified) };
}

/** Headers the emulator does not implement; refused rather than silently ignored. */
const UNSUPPORTED_HEADERS = [
  'x-ms-encryption-key',
  'x-ms-encryption-context',
  'x-ms-structured-body',
  'x-ms-content-crc64',
];

/** Refuses headers whose meaning the emulator cannot honour. */
export function refuseUnsupportedHeaders(ctx: RouteContext): void {
  for (const name of UNSUPPORTED_HEADERS)
    if (ctx.request.header(name) !== undefined) throw errors.unsupportedHeader(name);
}

/** Path - Create for a file or directory (`?resource=file|directory`). */
export function createPath(ctx: RouteContext): StorageResponse {
  const { request } = ctx;
  refuseUnsupportedHeaders(ctx);
  const resource = request.query.get('resource');
  if (resource === undefined) throw errors.missingRequiredQueryParameter('resource');
  if (resource !== 'file' && resource !== 'directory')
    throw errors.invalidQueryParameterValue('resource');
  const entry = ctx.store.createPath(request.filesystem, request.pathName, {
    kind: resource,
    metadata: dfsProperties(request) ?? {},
    headers: dfsHttpHeaders(request),
    conditions: conditionHeaders(request),
    leaseId: request.header('x-ms-lease-id'),
    proposedLeaseId: request.header('x-ms-proposed-lease-id'),
    leaseDuration: request.header('x-ms-lease-duration'),
  });
  return {
    status: 201,
    headers: { ...entryHeaders(entry), 'x-ms-request-server-encrypted': 'false' },
  };
}

/**
 * The filesystem and path named by `x-ms-rename-source` (`/fs/path`). A
 * client with a path-style URL (the SDK against an emulator) builds it from
 * its own URL, so it starts with `/account/`; that prefix is dropped.
 */
function renameSource(ctx: RouteContext): { filesystem: string; path: string } {
  const header = ctx.request.header('x-ms-rename-source') ?? '';
  const pathPart = header.split('?')[0] ?? '';
  let segments = pathPart.split('/').filter((s) => s !== '');
  if (segments[0] === ctx.request.account && segments.length >= 3) segments = segments.slice(1);
  const [fsEncoded, ...rest] = segments;
  if (fsEncoded === undefined || rest.length === 0) {
    throw new StorageError(400, 'InvalidSourceUri', 'The source URI is invalid.');
  }
  let filesystem: string;
  try {
    filesystem = decodeURIComponent(fsEncoded);
  } catch (_error) {
    throw new StorageError(400, 'InvalidSourceUri', 'The source URI is invalid.');
  }
  return { filesystem, path: canonicalPathName(rest.join('/')) };
}

/** Path - Create with `x-ms-rename-source`: an atomic move. */
export function renamePath(ctx: RouteContext): StorageResponse {
  const { request } = ctx;
  const mode = request.query.get('mode');
  if (mode !== undefined && mode !== 'legacy' && mode !== 'posix')
    throw errors.invalidQueryParameterValue('mode');
  const source = renameSource(ctx);
  const entry = movePath(
    ctx.store,
    source.filesystem,
    source.path,
    request.filesystem,
    request.pathName,
    {
      sourceConditions: sourceConditionHeaders(request),
      conditions: conditionHeaders(request),
      sourceLeaseId: request.header('x-ms-source-lease-id'),
      leaseId: request.header('x-ms-lease-id'),
    },
  );
  return { status: 201, headers: entryHeaders(entry) };
}

/** Path - Delete (recursive for directories). */
export function deletePath(ctx: RouteContext): StorageResponse {
  const { request } = ctx;
  const recursive = booleanParam(request, 'recursive', false);
  ctx.store.deletePath(
    request.filesystem,
    request.pathName,
    recursive,
    conditionHeaders(request),
    request.header('x-ms-lease-id'),
  );
  return { status: 200, headers: {} };
}

/** Set Blob Metadata, Set Blob Properties, or Path - Update `action=setProperties`. */
export function setPathProperties(ctx: RouteContext): StorageResponse {
  const { request } = ctx;
  const comp = request.query.get('comp');
  const change =
    comp === 'metadata'
      ? { metadata: blobMetadata(request) }
      : comp === 'properties'
        ? { headers: blobHttpHeaders(request) }
        : (() => {
            const metadata = dfsProperties(request);
            const current = ctx.store.path(request.filesystem, request.pathName, false).headers;
            return {
              ...(metadata ? { metadata } : {}),
              headers: { ...current, ...dfsHttpHeaders(request) },
            };
          })();
  const entry = ctx.store.setPathProperties(
    request.filesystem,
    request.pathName,
    change,
    conditionHeaders(request),
    request.header('x-ms-lease-id'),
    request.blob,
  );
  return { status: 200, headers: entryHeaders(entry) };
}

/** Lease Blob (`comp=lease`) or Path - Lease (POST). */
export function leasePath(ctx: RouteContext): StorageResponse {
  const { request } = ctx;
  const action = request.header('x-ms-lease-action');
  if (action === undefined) throw errors.missingRequiredHeader('x-ms-lease-action');
  const outcome = ctx.store.leasePath(
    request.filesystem,
    request.pathName,
    {
      action: action.toLowerCase(),
      leaseId: request.header('x-ms-lease-id'),
      proposedLeaseId: request.header('x-ms-proposed-lease-id'),
      durationSeconds: request.header('x-ms-lease-duration'),
      breakPeriodSeconds: request.header('x-ms-lease-break-period'),
    },
    conditionHeaders(request),
    request.blob,
  );
  return {
    status: outcome.status,
    headers: { ...entryHeaders(outcome.entry), ...outcome.headers },
  };
}
