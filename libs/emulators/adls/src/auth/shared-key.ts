import { createHmac, timingSafeEqual } from 'node:crypto';
import type { StorageRequest } from '../http/request.ts';
import { errors } from '../http/storage-error.ts';

/**
 * Shared Key authorization
 * (https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key):
 * the client signs a canonical string of the verb, standard headers,
 * `x-ms-*` headers and the resource with HMAC-SHA256 under the account key;
 * the server rebuilds the string and compares.
 */

/** How far a request's date may be from the server's clock (the service allows 15 minutes). */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const STANDARD_HEADERS = [
  'content-encoding',
  'content-language',
  'content-length',
  'content-md5',
  'content-type',
  'date',
  'if-modified-since',
  'if-match',
  'if-none-match',
  'if-unmodified-since',
  'range',
] as const;

/**
 * Orders canonical header names the way the service does (a culture-aware
 * comparison in which `-` weighs nothing at first): compare with hyphens
 * removed, then plainly. The SDK's SharedKeyComparator implements the same
 * ordering with lookup tables.
 */
function compareHeaderNames(a: string, b: string): number {
  const strippedA = a.replaceAll('-', '');
  const strippedB = b.replaceAll('-', '');
  if (strippedA !== strippedB) return strippedA < strippedB ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The string the client must have signed for `request`. */
export function stringToSign(request: StorageRequest, accountName: string): string {
  const headers = request.raw.headers;
  const standard = STANDARD_HEADERS.map((name) => {
    const value = request.header(name) ?? '';
    // Since 2015-02-21 a zero Content-Length is signed as the empty string.
    return name === 'content-length' && value === '0' ? '' : value;
  });
  const canonicalHeaders = Object.keys(headers)
    .filter((name) => name.startsWith('x-ms-'))
    .sort(compareHeaderNames)
    .map((name) => {
      const value = headers[name];
      const text = Array.isArray(value) ? value.join(',') : (value ?? '');
      return `${name}:${text.trimStart()}\n`;
    })
    .join('');
  return `${request.method}\n${standard.join('\n')}\n${canonicalHeaders}${canonicalResource(request, accountName)}`;
}

/**
 * `/account/rawpath` then one `name:value` line per query parameter, names
 * lower-cased and sorted. Like the SDK, parameters without a value are left
 * out (the SDK signs only `name=value` pairs with a non-empty value).
 */
function canonicalResource(request: StorageRequest, accountName: string): string {
  let resource = `/${accountName}${request.rawPath || '/'}`;
  const params = new Map<string, string>();
  for (const part of request.rawQuery.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq !== part.lastIndexOf('=') || eq === part.length - 1) continue;
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1));
    } catch (_error) {
      throw errors.invalidUri();
    }
    params.set(part.slice(0, eq).toLowerCase(), value);
  }
  for (const name of [...params.keys()].sort()) resource += `\n${name}:${params.get(name) ?? ''}`;
  return resource;
}

/** Verifies the `Authorization: SharedKey account:signature` header; throws 403 otherwise. */
export function verifySharedKey(
  request: StorageRequest,
  authorization: string,
  accountName: string,
  accountKey: Buffer,
): void {
  const match = /^SharedKey ([^:]+):(.+)$/.exec(authorization);
  if (!match)
    throw errors.authenticationFailed('The authorization header is not in a supported format.');
  const [, name, signature] = match;
  if (name !== accountName)
    throw errors.authenticationFailed(
      `The account ${name ?? ''} does not match the account of the request.`,
    );
  const date = request.header('x-ms-date') ?? request.header('date');
  const when = date === undefined ? Number.NaN : Date.parse(date);
  if (Number.isNaN(when))
    throw errors.authenticationFailed('The request has no valid x-ms-date or Date header.');
  if (Math.abs(Date.now() - when) > MAX_CLOCK_SKEW_MS) {
    throw errors.authenticationFailed(`Request date header too old: '${date ?? ''}'.`);
  }
  const text = stringToSign(request, accountName);
  const expected = createHmac('sha256', accountKey).update(text, 'utf8').digest();
  const given = Buffer.from(signature ?? '', 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw errors.authenticationFailed(
      `The MAC signature found in the HTTP request '${signature ?? ''}' is not the same as any computed signature. Server used following string to sign: '${text}'.`,
    );
  }
}
