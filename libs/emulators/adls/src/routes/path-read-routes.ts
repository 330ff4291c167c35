import type { StorageResponse } from '../http/response.ts';
import { errors } from '../http/storage-error.ts';
import { httpDate, toFileTime } from '../store/clock.ts';
import { requireConditions } from '../store/conditions.ts';
import { checkLeaseAccess, leaseHeaders } from '../store/leases.ts';
import type { PathEntry } from '../store/types.ts';
import {
  booleanParam,
  conditionHeaders,
  formatProperties,
  httpPropertyHeaders,
  integerParam,
  metadataHeaders,
} from './request-headers.ts';
import type { RouteContext } from './route-context.ts';

/** Reads, properties and listings: everything that never changes the store. */

/** The owner, group and permissions a path reports (the emulator has no ACLs). */
const DEFAULT_OWNER = '$superuser';
const FILE_PERMISSIONS = 'rw-r-----';
const DIRECTORY_PERMISSIONS = 'rwxr-x---';

function propertyHeaders(ctx: RouteContext, entry: PathEntry): Record<string, string> {
  const now = Date.now();
  const headers: Record<string, string> = {
    ...httpPropertyHeaders(entry.headers),
    ETag: entry.etag,
    'Last-Modified': httpDate(entry.lastModified),
    'Accept-Ranges': 'bytes',
    'x-ms-creation-time': httpDate(entry.created),
    'x-ms-server-encrypted': 'false',
    ...leaseHeaders(entry.lease, now),
  };
  if (ctx.request.blob) {
    headers['x-ms-blob-type'] = 'BlockBlob';
    // On a hierarchical-namespace account the Blob API shows a directory as an empty blob with this metadata.
    Object.assign(
      headers,
      metadataHeaders(
        entry.kind === 'directory' ? { ...entry.metadata, hdi_isfolder: 'true' } : entry.metadata,
      ),
    );
  } else {
    headers['x-ms-resource-type'] = entry.kind;
    headers['x-ms-properties'] = formatProperties(entry.metadata);
    headers['x-ms-owner'] = DEFAULT_OWNER;
    headers['x-ms-group'] = DEFAULT_OWNER;
    headers['x-ms-permissions'] =
      entry.kind === 'directory' ? DIRECTORY_PERMISSIONS : FILE_PERMISSIONS;
    if (ctx.request.query.get('action') === 'getAccessControl') {
      headers['x-ms-acl'] =
        `user::${entry.kind === 'directory' ? 'rwx' : 'rw-'},group::r-x,other::---`;
    }
  }
  return headers;
}

function readableEntry(ctx: RouteContext): PathEntry {
  const { request } = ctx;
  const entry = ctx.store.path(request.filesystem, request.pathName, request.blob);
  checkLeaseAccess(entry.lease, request.header('x-ms-lease-id'), Date.now(), {
    blob: request.blob,
    write: false,
  });
  requireConditions(entry, conditionHeaders(request), { read: true });
  return entry;
}

/** Get Blob Properties (HEAD) or Path - Get Properties: committed length, ETag, metadata. */
export function getPathProperties(ctx: RouteContext): StorageResponse {
  const entry = readableEntry(ctx);
  return {
    status: 200,
    headers: { ...propertyHeaders(ctx, entry), 'Content-Length': String(entry.committedLength) },
  };
}

/** `bytes=a-b` / `bytes=a-` from `x-ms-range` (preferred) or `Range`; undefined for the whole file. */
function requestedRange(ctx: RouteContext): { start: number; end: number | undefined } | undefined {
  const header = ctx.request.header('x-ms-range') ?? ctx.request.header('range');
  if (header === undefined) return undefined;
  const match = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  // The service ignores a Range header it cannot parse and sends the whole blob.
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = match[2] === '' || match[2] === undefined ? undefined : Number(match[2]);
  if (end !== undefined && end < start) throw errors.invalidHeaderValue('Range');
  return { start, end };
}

/** Get Blob / Path - Read: the committed bytes, whole or a range. Staged bytes are never served. */
export function readPath(ctx: RouteContext): StorageResponse {
  const entry = readableEntry(ctx);
  const size = entry.committedLength;
  const headers = propertyHeaders(ctx, entry);
  const range = requestedRange(ctx);
  if (range === undefined) {
    const body =
      size === 0 || entry.dataId === null
        ? Buffer.alloc(0)
        : ctx.store.data.read(entry.dataId, 0, size);
    return { status: 200, headers: { ...headers, 'Content-Length': String(size) }, body };
  }
  if (range.start >= size) throw errors.invalidRange(size);
  const last = Math.min(range.end ?? size - 1, size - 1);
  const body =
    entry.dataId === null
      ? Buffer.alloc(0)
      : ctx.store.data.read(entry.dataId, range.start, last + 1);
  return {
    status: 206,
    headers: {
      ...headers,
      'Content-Length': String(body.length),
      'Content-Range': `bytes ${range.start}-${last}/${size}`,
      ...(entry.headers.contentMd5 ? { 'x-ms-blob-content-md5': entry.headers.contentMd5 } : {}),
    },
    body,
  };
}

/** Path - List: one level or recursive, `maxResults` per page with `x-ms-continuation`. */
export function listPaths(ctx: RouteContext): StorageResponse {
  const { request } = ctx;
  if (!request.query.has('recursive')) throw errors.missingRequiredQueryParameter('recursive');
  const recursive = booleanParam(request, 'recursive', false);
  const maxResults = integerParam(request, 'maxResults', false) ?? 5000;
  if (maxResults < 1) throw errors.invalidQueryParameterValue('maxResults');
  const directory = (request.query.get('directory') ?? '')
    .split('/')
    .filter((segment) => segment !== '')
    .join('/');
  let continuation: string | undefined;
  const token = request.query.get('continuation');
  if (token !== undefined && token !== '') {
    continuation = Buffer.from(token, 'base64url').toString('utf8');
    if (continuation === '') throw errors.invalidQueryParameterValue('continuation');
  }
  const page = ctx.store.listPaths(request.filesystem, {
    directory,
    recursive,
    maxResults: Math.min(maxResults, 5000),
    continuation,
  });
  const paths = page.entries.map((entry) => ({
    name: entry.name,
    ...(entry.kind === 'directory' ? { isDirectory: 'true' } : {}),
    contentLength: String(entry.committedLength),
    lastModified: httpDate(entry.lastModified),
    // The listing carries the ETag without the quotes the ETag header has, as the service does.
    etag: entry.etag.replaceAll('"', ''),
    owner: DEFAULT_OWNER,
    group: DEFAULT_OWNER,
    permissions: entry.kind === 'directory' ? DIRECTORY_PERMISSIONS : FILE_PERMISSIONS,
    creationTime: toFileTime(entry.created),
  }));
  const headers: Record<string, string> = { 'Content-Type': 'application/json;charset=utf-8' };
  if (page.continuation !== undefined)
    headers['x-ms-continuation'] = Buffer.from(page.continuation, 'utf8').toString('base64url');
  return { status: 200, headers, body: JSON.stringify({ paths }) };
}
