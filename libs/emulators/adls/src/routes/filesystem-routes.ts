import type { StorageResponse } from '../http/response.ts';
import { errors } from '../http/storage-error.ts';
import { httpDate } from '../store/clock.ts';
import type { FilesystemEntry } from '../store/types.ts';
import {
  blobMetadata,
  conditionHeaders,
  dfsProperties,
  formatProperties,
  integerParam,
  metadataHeaders,
} from './request-headers.ts';
import type { RouteContext } from './route-context.ts';

/**
 * Filesystem operations in both shapes the DataLake SDK uses: the Blob
 * container API (`?restype=container`, which the SDK calls for create,
 * delete, properties and metadata) and the DFS filesystem API
 * (`?resource=filesystem`).
 */

function entryHeaders(fs: FilesystemEntry): Record<string, string> {
  return { ETag: fs.etag, 'Last-Modified': httpDate(fs.lastModified) };
}

function metadataOf(ctx: RouteContext): Record<string, string> {
  return ctx.request.blob ? blobMetadata(ctx.request) : (dfsProperties(ctx.request) ?? {});
}

/** Filesystem - Create / Create Container. */
export function createFilesystem(ctx: RouteContext): StorageResponse {
  const fs = ctx.store.createFilesystem(ctx.request.filesystem, metadataOf(ctx), ctx.request.blob);
  return { status: 201, headers: { ...entryHeaders(fs), 'x-ms-namespace-enabled': 'true' } };
}

/** Filesystem - Delete / Delete Container. */
export function deleteFilesystem(ctx: RouteContext): StorageResponse {
  ctx.store.deleteFilesystem(
    ctx.request.filesystem,
    conditionHeaders(ctx.request),
    ctx.request.blob,
  );
  return { status: 202, headers: {} };
}

/** Filesystem - Get Properties / Get Container Properties. */
export function getFilesystemProperties(ctx: RouteContext): StorageResponse {
  const fs = ctx.store.filesystem(ctx.request.filesystem, ctx.request.blob);
  const headers: Record<string, string> = {
    ...entryHeaders(fs),
    'x-ms-namespace-enabled': 'true',
    'x-ms-lease-state': 'available',
    'x-ms-lease-status': 'unlocked',
    'x-ms-has-immutability-policy': 'false',
    'x-ms-has-legal-hold': 'false',
    'x-ms-default-encryption-scope': '$account-encryption-key',
    'x-ms-deny-encryption-scope-override': 'false',
  };
  if (ctx.request.blob) Object.assign(headers, metadataHeaders(fs.metadata));
  else headers['x-ms-properties'] = formatProperties(fs.metadata);
  return { status: 200, headers };
}

/** Filesystem - Set Properties / Set Container Metadata. */
export function setFilesystemMetadata(ctx: RouteContext): StorageResponse {
  const fs = ctx.store.setFilesystemMetadata(
    ctx.request.filesystem,
    metadataOf(ctx),
    conditionHeaders(ctx.request),
    ctx.request.blob,
  );
  return { status: 200, headers: entryHeaders(fs) };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** List Containers (XML, Blob shape — what the SDK's `listFileSystems` calls) or Filesystem - List (JSON). */
export function listFilesystems(ctx: RouteContext): StorageResponse {
  const { request } = ctx;
  const prefix = request.query.get('prefix') ?? '';
  const max =
    integerParam(request, request.query.has('comp') ? 'maxresults' : 'maxResults', false) ?? 5000;
  if (max < 1 || max > 5000) throw errors.invalidQueryParameterValue('maxresults');
  const marker = request.query.get('marker') ?? request.query.get('continuation') ?? '';
  const { items, next } = ctx.store.listFilesystems(prefix, marker, max);
  if (!request.query.has('comp')) {
    const body = JSON.stringify({
      filesystems: items.map((fs) => ({
        name: fs.name,
        lastModified: httpDate(fs.lastModified),
        etag: fs.etag,
      })),
    });
    const headers: Record<string, string> = { 'Content-Type': 'application/json;charset=utf-8' };
    if (next !== undefined) headers['x-ms-continuation'] = next;
    return { status: 200, headers, body };
  }
  const withMetadata = (request.query.get('include') ?? '').split(',').includes('metadata');
  const containers = items
    .map((fs) => {
      const metadata = withMetadata
        ? `<Metadata>${Object.entries(fs.metadata)
            .map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`)
            .join('')}</Metadata>`
        : '';
      return (
        `<Container><Name>${escapeXml(fs.name)}</Name><Properties>` +
        `<Last-Modified>${httpDate(fs.lastModified)}</Last-Modified><Etag>${escapeXml(fs.etag)}</Etag>` +
        '<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState>' +
        '<DefaultEncryptionScope>$account-encryption-key</DefaultEncryptionScope><DenyEncryptionScopeOverride>false</DenyEncryptionScopeOverride>' +
        '<HasImmutabilityPolicy>false</HasImmutabilityPolicy><HasLegalHold>false</HasLegalHold>' +
        `</Properties>${metadata}</Container>`
      );
    })
    .join('');
  const body =
    `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="${escapeXml(ctx.accountUrl())}/">` +
    `<Prefix>${escapeXml(prefix)}</Prefix>${marker ? `<Marker>${escapeXml(marker)}</Marker>` : ''}<MaxResults>${max}</MaxResults>` +
    `<Containers>${containers}</Containers><NextMarker>${next === undefined ? '' : escapeXml(next)}</NextMarker></EnumerationResults>`;
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
}
