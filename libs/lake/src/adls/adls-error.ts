import { LakeError, type LakeErrorCode } from '../lake-error.ts';

/**
 * What the adapter looks at in a failure: the HTTP status and the service's
 * `x-ms-error-code` (https://learn.microsoft.com/rest/api/storageservices/datalakestoragegen2/path/update#status-and-error-codes),
 * or the transport's error code, and the error's class name. Never the
 * message text.
 */
export interface AdlsFailureFacts {
  readonly statusCode: number | undefined;
  readonly code: string | undefined;
  readonly name: string | undefined;
}

/** The facts of any thrown value (a `RestError`, a Node error, an identity error). */
export function adlsFailureFacts(error: unknown): AdlsFailureFacts {
  const e = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  return {
    statusCode: typeof e.statusCode === 'number' ? e.statusCode : undefined,
    code: typeof e.code === 'string' ? e.code : undefined,
    name: typeof e.name === 'string' ? e.name : undefined,
  };
}

/** 409s that mean "someone else holds or changed the path", not "it exists". */
const CONFLICT_409 = new Set([
  'LeaseIdMissing',
  'LeaseAlreadyPresent',
  'LeaseIdMismatchWithLeaseOperation',
  'LeaseIsAlreadyBroken',
  'LeaseIsBreakingAndCannotBeAcquired',
  'LeaseIsBreakingAndCannotBeChanged',
  'LeaseNotPresentWithLeaseOperation',
  'LeaseNameMismatch',
  'LeaseIdMismatch',
  'LeaseNotPresent',
  'SourcePathIsBeingDeleted',
  'DestinationPathIsBeingDeleted',
  'PathConflict',
]);

/** 409s that clear by themselves. */
const TRANSIENT_409 = new Set(['FilesystemBeingDeleted', 'ContainerBeingDeleted']);

/** 400s that say the committed length moved under the caller. */
const POSITION_400 = new Set(['InvalidFlushPosition']);

/** Answers that say the path's name breaks the service's rules. */
const PATH_CODES = new Set(['InvalidResourceName']);

/** Transport failures (no HTTP answer), as Node and core-rest-pipeline name them. */
const TRANSPORT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'REQUEST_SEND_ERROR',
  'PARSE_ERROR',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

const TIMEOUT_NAMES = new Set(['AbortError', 'TimeoutError']);
const CREDENTIAL_NAMES = new Set([
  'CredentialUnavailableError',
  'AuthenticationError',
  'AggregateAuthenticationError',
  'AuthenticationRequiredError',
]);

/**
 * The lake error code for an ADLS failure. A pure function of
 * {@link AdlsFailureFacts}, table-tested; every retry decision follows from
 * it (only `THROTTLED` and `UNAVAILABLE` are retried).
 */
export function lakeCodeOfAdlsFailure(facts: AdlsFailureFacts): LakeErrorCode {
  const { statusCode: status, code, name } = facts;
  if (status !== undefined) {
    if (status === 404 || status === 410) return 'NOT_FOUND';
    if (status === 409) {
      if (code !== undefined && TRANSIENT_409.has(code)) return 'UNAVAILABLE';
      if (code !== undefined && CONFLICT_409.has(code)) return 'CONFLICT';
      return code !== undefined && code.endsWith('AlreadyExists') ? 'ALREADY_EXISTS' : 'UNEXPECTED';
    }
    if (status === 412) return 'CONFLICT';
    if (status === 429) return 'THROTTLED';
    if (status === 503)
      return code === 'ServerBusy' || code === undefined ? 'THROTTLED' : 'UNAVAILABLE';
    if (status === 401 || status === 403) return 'UNAUTHORIZED';
    if (status === 408 || status >= 500) return 'UNAVAILABLE';
    if (status === 400 && code !== undefined && POSITION_400.has(code)) return 'CONFLICT';
    if ((status === 400 && code !== undefined && PATH_CODES.has(code)) || status === 414)
      return 'INVALID_PATH';
    return 'INVALID';
  }
  if (name !== undefined && CREDENTIAL_NAMES.has(name)) return 'UNAUTHORIZED';
  if (name !== undefined && TIMEOUT_NAMES.has(name)) return 'UNAVAILABLE';
  if (code !== undefined && TRANSPORT_CODES.has(code)) return 'UNAVAILABLE';
  // A RestError with no status and no known code is still a failed request.
  if (name === 'RestError') return 'UNAVAILABLE';
  // Anything else is a bug on our side (a TypeError, a RangeError): retrying cannot help.
  return 'INVALID';
}

/** What a translated error keeps of the original: no URL, header or message, so no secret. */
export interface AdlsFailureSummary extends AdlsFailureFacts {
  readonly requestId: string | undefined;
}

function requestIdOf(error: unknown): string | undefined {
  const response = (error as { response?: { headers?: { get?: (name: string) => unknown } } })
    ?.response;
  const id =
    typeof response?.headers?.get === 'function'
      ? response.headers.get('x-ms-request-id')
      : undefined;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Translates a failure at the adapter's edge. The SDK's `RestError` carries
 * the request (URL with a SAS signature, headers); it is therefore not kept
 * as the cause: only a {@link AdlsFailureSummary} is.
 */
export function adlsErrorToLakeError(error: unknown, operation: string, path: string): LakeError {
  if (error instanceof LakeError) return error;
  const facts = adlsFailureFacts(error);
  const summary: AdlsFailureSummary = { ...facts, requestId: requestIdOf(error) };
  const detail = [facts.statusCode, facts.code ?? facts.name]
    .filter((x) => x !== undefined)
    .join(' ');
  return new LakeError(
    lakeCodeOfAdlsFailure(facts),
    `ADLS ${operation} of ${path || '/'} failed (${detail || 'unknown error'}).`,
    { cause: summary },
  );
}
