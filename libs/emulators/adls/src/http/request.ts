import type { IncomingMessage } from 'node:http';
import { canonicalPathName } from '../store/names.ts';
import { errors } from './storage-error.ts';

/**
 * Every operation the emulator tells apart. Fault rules and SAS permission
 * checks name these.
 */
export const OPERATIONS = [
  'account.listFilesystems',
  'filesystem.create',
  'filesystem.delete',
  'filesystem.getProperties',
  'filesystem.setMetadata',
  'filesystem.listPaths',
  'path.create',
  'path.rename',
  'path.append',
  'path.flush',
  'path.setProperties',
  'path.lease',
  'path.read',
  'path.getProperties',
  'path.delete',
  'unsupported',
] as const;

/** One of {@link OPERATIONS}. */
export type OperationName = (typeof OPERATIONS)[number];

/** A parsed request: where it points, what it does and in which dialect to answer. */
export interface StorageRequest {
  readonly raw: IncomingMessage;
  readonly method: string;
  /** The path part of the URL exactly as sent (percent-encoded), for signatures. */
  readonly rawPath: string;
  /** The query string exactly as sent, without `?`. */
  readonly rawQuery: string;
  /** Query parameters, names lower-cased, values decoded. */
  readonly query: ReadonlyMap<string, string>;
  readonly account: string;
  /** The filesystem segment, decoded; `''` at account level. */
  readonly filesystem: string;
  /** The canonical path inside the filesystem; `''` at filesystem level. */
  readonly pathName: string;
  readonly operation: OperationName;
  /** True when the answer must be in the Blob endpoint's words (XML errors, Blob error codes). */
  readonly blob: boolean;
  /** A request header (first value), or undefined; `name` in lower case. */
  header(name: string): string | undefined;
}

const BLOB_OPERATIONS = new Set<OperationName>([
  'account.listFilesystems',
  'path.read',
  'path.getProperties',
]);

/**
 * Parses a path-style URL `/ACCOUNT/FILESYSTEM/PATH?query`. The account
 * segment is reported, not checked, here; authorization checks it.
 */
export function parseRequest(raw: IncomingMessage, accountName: string): StorageRequest {
  const url = raw.url ?? '/';
  const queryAt = url.indexOf('?');
  const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
  const rawQuery = queryAt === -1 ? '' : url.slice(queryAt + 1);
  const query = parseQuery(rawQuery);
  let trimmed = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  const headers = raw.headers;
  // Names are given in lower case, as Node stores them.
  const header = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  // The SDK's move() builds its destination URL by replacing the whole URL
  // path with `/filesystem/path`, which drops the account segment of a
  // path-style URL (its rename source keeps it). Accept that one form so the
  // official client's rename works against the emulator.
  const renameSource = header('x-ms-rename-source');
  if (
    renameSource !== undefined &&
    renameSource.startsWith(`/${accountName}/`) &&
    !trimmed.startsWith(`${accountName}/`)
  ) {
    trimmed = `${accountName}/${trimmed}`;
  }
  const firstSlash = trimmed.indexOf('/');
  const accountRaw = firstSlash === -1 ? trimmed : trimmed.slice(0, firstSlash);
  const rest = firstSlash === -1 ? '' : trimmed.slice(firstSlash + 1);
  const secondSlash = rest.indexOf('/');
  const filesystemRaw = secondSlash === -1 ? rest : rest.slice(0, secondSlash);
  const pathRaw = secondSlash === -1 ? '' : rest.slice(secondSlash + 1);
  const account = decodeSegment(accountRaw);
  const filesystem = decodeSegment(filesystemRaw);
  const pathName = canonicalPathName(pathRaw);
  const method = (raw.method ?? 'GET').toUpperCase();
  const operation = classify(method, filesystem, pathName, query, header);
  const blob =
    BLOB_OPERATIONS.has(operation) && !(operation === 'path.getProperties' && query.has('action'))
      ? true
      : query.has('restype') || query.has('comp');
  return {
    raw,
    method,
    rawPath,
    rawQuery,
    query,
    account,
    filesystem,
    pathName,
    operation,
    blob,
    header,
  };
}

/**
 * Query parameters, names lower-cased, values decoded as `URLSearchParams`
 * decodes them (`+` is a space). The plain split is the common case (the
 * SDK's `action=append&position=123`); anything encoded goes the long way.
 */
function parseQuery(rawQuery: string): Map<string, string> {
  const query = new Map<string, string>();
  if (rawQuery === '') return query;
  if (rawQuery.includes('%') || rawQuery.includes('+')) {
    for (const [name, value] of new URLSearchParams(rawQuery)) query.set(name.toLowerCase(), value);
    return query;
  }
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq === -1) query.set(part.toLowerCase(), '');
    else query.set(part.slice(0, eq).toLowerCase(), part.slice(eq + 1));
  }
  return query;
}

function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch (_error) {
    throw errors.invalidUri();
  }
}

function classify(
  method: string,
  filesystem: string,
  pathName: string,
  query: ReadonlyMap<string, string>,
  header: (name: string) => string | undefined,
): OperationName {
  const comp = query.get('comp');
  const restype = query.get('restype');
  const resource = query.get('resource');
  if (filesystem === '') {
    if (method === 'GET' && (comp === 'list' || resource === 'account'))
      return 'account.listFilesystems';
    return 'unsupported';
  }
  if (pathName === '') {
    if (restype === 'container') {
      if (comp === undefined) {
        if (method === 'PUT') return 'filesystem.create';
        if (method === 'DELETE') return 'filesystem.delete';
        if (method === 'GET' || method === 'HEAD') return 'filesystem.getProperties';
      }
      if (comp === 'metadata' && method === 'PUT') return 'filesystem.setMetadata';
      return 'unsupported';
    }
    if (resource === 'filesystem') {
      if (method === 'PUT') return 'filesystem.create';
      if (method === 'DELETE') return 'filesystem.delete';
      if (method === 'HEAD') return 'filesystem.getProperties';
      if (method === 'PATCH') return 'filesystem.setMetadata';
      if (method === 'GET') return 'filesystem.listPaths';
    }
    return 'unsupported';
  }
  if (comp !== undefined) {
    if (method === 'PUT' && (comp === 'metadata' || comp === 'properties'))
      return 'path.setProperties';
    if (method === 'PUT' && comp === 'lease') return 'path.lease';
    return 'unsupported';
  }
  switch (method) {
    case 'PUT':
      if (header('x-ms-rename-source') !== undefined) return 'path.rename';
      if (header('x-ms-blob-type') !== undefined) return 'unsupported';
      return 'path.create';
    case 'PATCH': {
      const action = query.get('action');
      if (action === 'append') return 'path.append';
      if (action === 'flush') return 'path.flush';
      if (action === 'setProperties') return 'path.setProperties';
      return 'unsupported';
    }
    case 'POST':
      return 'path.lease';
    case 'GET':
      return 'path.read';
    case 'HEAD':
      return 'path.getProperties';
    case 'DELETE':
      return 'path.delete';
    default:
      return 'unsupported';
  }
}
