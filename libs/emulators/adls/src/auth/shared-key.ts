import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
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

/**
 * Sorted `x-ms-*` header names by the set a request carries, in the order
 * it carried them. A client sends the same set on every request of a kind,
 * so each set is sorted once; the cache is bounded because the sets come
 * from clients.
 */
const sortedNameSets = new Map<string, string[]>();
const MAX_CACHED_NAME_SETS = 256;

function sortedMsHeaderNames(names: string[]): string[] {
  const key = names.join(',');
  let sorted = sortedNameSets.get(key);
  if (sorted === undefined) {
    sorted = [...names].sort(compareHeaderNames);
    if (sortedNameSets.size >= MAX_CACHED_NAME_SETS) sortedNameSets.clear();
    sortedNameSets.set(key, sorted);
  }
  return sorted;
}

function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(',') : (value ?? '');
}

/** The string the client must have signed for `request`. */
export function stringToSign(request: StorageRequest, accountName: string): string {
  const headers = request.raw.headers;
  let text = `${request.method}\n`;
  for (const name of STANDARD_HEADERS) {
    const value = headerText(headers[name]);
    // Since 2015-02-21 a zero Content-Length is signed as the empty string.
    text += name === 'content-length' && value === '0' ? '\n' : `${value}\n`;
  }
  const msNames: string[] = [];
  for (const name in headers) if (name.startsWith('x-ms-')) msNames.push(name);
  for (const name of sortedMsHeaderNames(msNames))
    text += `${name}:${headerText(headers[name]).trimStart()}\n`;
  return text + canonicalResource(request, accountName);
}

/**
 * `/account/rawpath` then one `name:value` line per query parameter, names
 * lower-cased and sorted. Like the SDK, parameters without a value are left
 * out (the SDK signs only `name=value` pairs with a non-empty value).
 */
function canonicalResource(request: StorageRequest, accountName: string): string {
  let resource = `/${accountName}${request.rawPath || '/'}`;
  if (request.rawQuery === '') return resource;
  const params: Array<[string, string]> = [];
  for (const part of request.rawQuery.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq !== part.lastIndexOf('=') || eq === part.length - 1) continue;
    const encoded = part.slice(eq + 1);
    let value: string;
    try {
      value = encoded.includes('%') ? decodeURIComponent(encoded) : encoded;
    } catch (_error) {
      throw errors.invalidUri();
    }
    const name = part.slice(0, eq).toLowerCase();
    // A repeated name keeps its last value, as the SDK's query map does.
    const existing = params.findIndex(([known]) => known === name);
    if (existing === -1) params.push([name, value]);
    else params[existing] = [name, value];
  }
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, value] of params) resource += `\n${name}:${value}`;
  return resource;
}

/** The account key as a `KeyObject`, made once: HMAC with one is cheaper than with raw bytes. */
const keyObjects = new WeakMap<Buffer, KeyObject>();

function keyObjectOf(key: Buffer): KeyObject {
  let keyObject = keyObjects.get(key);
  if (keyObject === undefined) {
    keyObject = createSecretKey(key);
    keyObjects.set(key, keyObject);
  }
  return keyObject;
}

/** The last request date seen and its value: thousands of requests a second share one `x-ms-date`. */
let lastDateText = '';
let lastDateMs = Number.NaN;

function parseRequestDate(text: string): number {
  if (text !== lastDateText) {
    lastDateText = text;
    lastDateMs = Date.parse(text);
  }
  return lastDateMs;
}

const SCHEME = 'SharedKey ';

/** Verifies the `Authorization: SharedKey account:signature` header; throws 403 otherwise. */
export function verifySharedKey(
  request: StorageRequest,
  authorization: string,
  accountName: string,
  accountKey: Buffer,
): void {
  const colon = authorization.indexOf(':', SCHEME.length);
  if (
    !authorization.startsWith(SCHEME) ||
    colon <= SCHEME.length ||
    colon === authorization.length - 1
  )
    throw errors.authenticationFailed('The authorization header is not in a supported format.');
  const name = authorization.slice(SCHEME.length, colon);
  const signature = authorization.slice(colon + 1);
  if (name !== accountName)
    throw errors.authenticationFailed(
      `The account ${name} does not match the account of the request.`,
    );
  const date = request.header('x-ms-date') ?? request.header('date');
  const when = date === undefined ? Number.NaN : parseRequestDate(date);
  if (Number.isNaN(when))
    throw errors.authenticationFailed('The request has no valid x-ms-date or Date header.');
  if (Math.abs(Date.now() - when) > MAX_CLOCK_SKEW_MS) {
    throw errors.authenticationFailed(`Request date header too old: '${date ?? ''}'.`);
  }
  const text = stringToSign(request, accountName);
  const expected = createHmac('sha256', keyObjectOf(accountKey)).update(text, 'utf8').digest();
  const given = Buffer.from(signature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw errors.authenticationFailed(
      `The MAC signature found in the HTTP request '${signature}' is not the same as any computed signature. Server used following string to sign: '${text}'.`,
    );
  }
}
