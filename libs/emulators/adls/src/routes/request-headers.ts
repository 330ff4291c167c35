import type { StorageRequest } from '../http/request.ts';
import { StorageError, errors } from '../http/storage-error.ts';
import type { ConditionHeaders } from '../store/conditions.ts';
import type { PathHttpHeaders } from '../store/types.ts';

/** Metadata names must be C# identifiers, as on the service. */
const METADATA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Metadata from `x-ms-meta-*` headers (Blob operations). */
export function blobMetadata(request: StorageRequest): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.raw.headers)) {
    if (!name.startsWith('x-ms-meta-')) continue;
    const key = name.slice('x-ms-meta-'.length);
    if (!METADATA_NAME.test(key))
      throw new StorageError(
        400,
        'InvalidMetadata',
        'The metadata specified is invalid. It has characters that are not permitted.',
      );
    const raw = Array.isArray(value) ? value.join(',') : (value ?? '');
    // Node hands header bytes over as latin1; metadata is UTF-8 text.
    metadata[key] = Buffer.from(raw, 'latin1').toString('utf8');
  }
  return metadata;
}

/** Metadata from the DFS `x-ms-properties` header: `name=base64(value),...`. */
export function dfsProperties(request: StorageRequest): Record<string, string> | undefined {
  const header = request.header('x-ms-properties');
  if (header === undefined) return undefined;
  const metadata: Record<string, string> = {};
  if (header.trim() === '') return metadata;
  for (const pair of header.split(',')) {
    const eq = pair.indexOf('=');
    const name = (eq === -1 ? pair : pair.slice(0, eq)).trim();
    if (name === '')
      throw new StorageError(400, 'InvalidPropertyName', 'A property name cannot be empty.');
    if (!METADATA_NAME.test(name))
      throw new StorageError(
        400,
        'InvalidPropertyName',
        'The property name contains invalid characters.',
      );
    const encoded = eq === -1 ? '' : pair.slice(eq + 1).trim();
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) throw errors.invalidHeaderValue('x-ms-properties');
    const value = Buffer.from(encoded, 'base64').toString('utf8');
    // A value must survive the trip back out as an `x-ms-meta-*` header on the Blob API.
    if (hasControlCharacter(value)) throw errors.invalidHeaderValue('x-ms-properties');
    metadata[name] = value;
  }
  return metadata;
}

/** True when `text` holds a control character other than tab (not allowed in an HTTP header value). */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

/** The DFS `x-ms-properties` form of `metadata`. */
export function formatProperties(metadata: Record<string, string>): string {
  return Object.entries(metadata)
    .map(([name, value]) => `${name}=${Buffer.from(value, 'utf8').toString('base64')}`)
    .join(',');
}

/** `x-ms-meta-*` response headers for `metadata`. */
export function metadataHeaders(metadata: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata)) {
    // Non-ASCII values (possible through the DFS API) go out as their UTF-8 bytes.
    headers[`x-ms-meta-${name}`] = Buffer.from(value, 'utf8').toString('latin1');
  }
  return headers;
}

/** The standard conditional headers. */
export function conditionHeaders(request: StorageRequest): ConditionHeaders {
  return {
    ifMatch: request.header('if-match'),
    ifNoneMatch: request.header('if-none-match'),
    ifModifiedSince: request.header('if-modified-since'),
    ifUnmodifiedSince: request.header('if-unmodified-since'),
  };
}

/** The `x-ms-source-if-*` conditions of a rename. */
export function sourceConditionHeaders(request: StorageRequest): ConditionHeaders {
  return {
    ifMatch: request.header('x-ms-source-if-match'),
    ifNoneMatch: request.header('x-ms-source-if-none-match'),
    ifModifiedSince: request.header('x-ms-source-if-modified-since'),
    ifUnmodifiedSince: request.header('x-ms-source-if-unmodified-since'),
  };
}

/** HTTP properties from DFS headers (`x-ms-content-type`, ...). */
export function dfsHttpHeaders(request: StorageRequest): PathHttpHeaders {
  return httpHeadersWithPrefix(request, 'x-ms-');
}

/** HTTP properties from Blob headers (`x-ms-blob-content-type`, ...). */
export function blobHttpHeaders(request: StorageRequest): PathHttpHeaders {
  return httpHeadersWithPrefix(request, 'x-ms-blob-');
}

/** The HTTP properties and the header names (after the prefix) that carry them. */
const HTTP_PROPERTY_HEADERS: ReadonlyArray<[keyof PathHttpHeaders, string]> = [
  ['contentType', 'content-type'],
  ['contentEncoding', 'content-encoding'],
  ['contentLanguage', 'content-language'],
  ['contentDisposition', 'content-disposition'],
  ['cacheControl', 'cache-control'],
  ['contentMd5', 'content-md5'],
];

const prefixedNames = new Map<string, ReadonlyArray<[keyof PathHttpHeaders, string]>>();

function httpHeadersWithPrefix(request: StorageRequest, prefix: string): PathHttpHeaders {
  let names = prefixedNames.get(prefix);
  if (names === undefined) {
    names = HTTP_PROPERTY_HEADERS.map(([property, name]) => [property, prefix + name]);
    prefixedNames.set(prefix, names);
  }
  const result: PathHttpHeaders = {};
  for (const [property, name] of names) {
    const value = request.header(name);
    if (value !== undefined) result[property] = value;
  }
  return result;
}

/** Response headers for a path's HTTP properties. */
export function httpPropertyHeaders(headers: PathHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {
    'Content-Type': headers.contentType ?? 'application/octet-stream',
  };
  if (headers.contentEncoding !== undefined) result['Content-Encoding'] = headers.contentEncoding;
  if (headers.contentLanguage !== undefined) result['Content-Language'] = headers.contentLanguage;
  if (headers.contentDisposition !== undefined)
    result['Content-Disposition'] = headers.contentDisposition;
  if (headers.cacheControl !== undefined) result['Cache-Control'] = headers.cacheControl;
  if (headers.contentMd5 !== undefined) result['Content-MD5'] = headers.contentMd5;
  return result;
}

/** A non-negative integer query parameter, or 400. */
export function integerParam(request: StorageRequest, name: string, required: true): number;
export function integerParam(
  request: StorageRequest,
  name: string,
  required: false,
): number | undefined;
export function integerParam(
  request: StorageRequest,
  name: string,
  required: boolean,
): number | undefined {
  const value = request.query.get(name.toLowerCase());
  if (value === undefined) {
    if (required) throw errors.missingRequiredQueryParameter(name);
    return undefined;
  }
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw errors.invalidQueryParameterValue(name);
  return Number(value);
}

/** A `true`/`false` query parameter (absent is `fallback`), or 400. */
export function booleanParam(request: StorageRequest, name: string, fallback: boolean): boolean {
  const value = request.query.get(name.toLowerCase());
  if (value === undefined || value === '') return fallback;
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw errors.invalidQueryParameterValue(name);
}
