import { StorageError } from '../http/storage-error.ts';

/**
 * HTTP conditional headers as the storage service applies them
 * (https://learn.microsoft.com/rest/api/storageservices/specifying-conditional-headers-for-blob-service-operations):
 * a write whose condition fails answers 412 ConditionNotMet; a read answers
 * 304 for If-None-Match / If-Modified-Since and 412 for the others.
 */
export interface ConditionHeaders {
  ifMatch: string | undefined;
  ifNoneMatch: string | undefined;
  ifModifiedSince: string | undefined;
  ifUnmodifiedSince: string | undefined;
}

/** What the condition is checked against: the resource's current ETag and Last-Modified, or nothing. */
export interface ConditionTarget {
  etag: string;
  lastModified: number;
}

function etagList(header: string): string[] {
  return header.split(',').map((tag) => tag.trim());
}

function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  // An unparseable date is ignored, as HTTP/1.1 (RFC 9110 §13.1.3) requires.
  return Number.isNaN(ms) ? undefined : ms;
}

/** The condition that failed, if any: `'precondition'` (412) or `'not-modified'` (304 on reads). */
export type ConditionFailure = 'precondition' | 'not-modified' | undefined;

/** Evaluates the conditions against `target` (undefined when the resource does not exist). */
export function evaluateConditions(
  target: ConditionTarget | undefined,
  headers: ConditionHeaders,
): ConditionFailure {
  if (headers.ifMatch !== undefined) {
    if (!target) return 'precondition';
    const tags = etagList(headers.ifMatch);
    if (!tags.includes('*') && !tags.includes(target.etag)) return 'precondition';
  }
  if (headers.ifNoneMatch !== undefined && target) {
    const tags = etagList(headers.ifNoneMatch);
    if (tags.includes('*') || tags.includes(target.etag)) return 'not-modified';
  }
  // HTTP dates have one-second resolution, so compare whole seconds.
  const modifiedSeconds = target ? Math.floor(target.lastModified / 1000) : undefined;
  const since = parseHttpDate(headers.ifModifiedSince);
  if (
    since !== undefined &&
    modifiedSeconds !== undefined &&
    modifiedSeconds <= Math.floor(since / 1000)
  ) {
    return 'not-modified';
  }
  const unmodifiedSince = parseHttpDate(headers.ifUnmodifiedSince);
  if (
    unmodifiedSince !== undefined &&
    modifiedSeconds !== undefined &&
    modifiedSeconds > Math.floor(unmodifiedSince / 1000)
  ) {
    return 'precondition';
  }
  return undefined;
}

/** Throws the service's answer when a condition fails. */
export function requireConditions(
  target: ConditionTarget | undefined,
  headers: ConditionHeaders,
  options: { read?: boolean; source?: boolean } = {},
): void {
  const failure = evaluateConditions(target, headers);
  if (failure === undefined) return;
  if (failure === 'not-modified' && options.read)
    throw new StorageError(
      304,
      'ConditionNotMet',
      'The condition specified using HTTP conditional header(s) is not met.',
    );
  if (options.source) {
    throw new StorageError(
      412,
      'SourceConditionNotMet',
      'The source condition specified using HTTP conditional header(s) is not met.',
    );
  }
  throw new StorageError(
    412,
    'ConditionNotMet',
    'The condition specified using HTTP conditional header(s) is not met.',
  );
}
