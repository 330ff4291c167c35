import { describe, expect, it } from 'vitest';
import {
  adlsErrorToLakeError,
  lakeCodeOfAdlsFailure,
  type AdlsFailureFacts,
} from '../../src/adls/adls-error.ts';

const facts = (statusCode?: number, code?: string, name?: string): AdlsFailureFacts => ({
  statusCode,
  code,
  name,
});

describe('ADLS error translation', () => {
  it.each([
    [facts(404, 'PathNotFound'), 'NOT_FOUND'],
    [facts(404, 'FilesystemNotFound'), 'NOT_FOUND'],
    [facts(404, 'SourcePathNotFound'), 'NOT_FOUND'],
    [facts(409, 'PathAlreadyExists'), 'ALREADY_EXISTS'],
    [facts(409, 'BlobAlreadyExists'), 'ALREADY_EXISTS'],
    [facts(409, 'LeaseIdMissing'), 'CONFLICT'],
    [facts(409, 'LeaseIdMismatch'), 'CONFLICT'],
    [facts(409, 'LeaseAlreadyPresent'), 'CONFLICT'],
    [facts(409, 'PathConflict'), 'CONFLICT'],
    [facts(409, 'SomethingNew'), 'UNEXPECTED'],
    [facts(409, undefined), 'UNEXPECTED'],
    [facts(409, 'FilesystemBeingDeleted'), 'UNAVAILABLE'],
    [facts(412, 'ConditionNotMet'), 'CONFLICT'],
    [facts(400, 'InvalidFlushPosition'), 'CONFLICT'],
    [facts(400, 'InvalidHeaderValue'), 'INVALID'],
    [facts(400, 'InvalidResourceName'), 'INVALID_PATH'],
    [facts(414, undefined), 'INVALID_PATH'],
    [facts(416, 'InvalidRange'), 'INVALID'],
    [facts(429, undefined), 'THROTTLED'],
    [facts(503, 'ServerBusy'), 'THROTTLED'],
    [facts(503, undefined), 'THROTTLED'],
    [facts(503, 'ServiceUnavailable'), 'UNAVAILABLE'],
    [facts(500, 'InternalError'), 'UNAVAILABLE'],
    [facts(502), 'UNAVAILABLE'],
    [facts(504), 'UNAVAILABLE'],
    [facts(408), 'UNAVAILABLE'],
    [facts(401, 'NoAuthenticationInformation'), 'UNAUTHORIZED'],
    [facts(403, 'AuthenticationFailed'), 'UNAUTHORIZED'],
    [facts(403, 'AuthorizationPermissionMismatch'), 'UNAUTHORIZED'],
    [facts(undefined, 'ECONNRESET', 'RestError'), 'UNAVAILABLE'],
    [facts(undefined, 'ECONNREFUSED', 'RestError'), 'UNAVAILABLE'],
    [facts(undefined, 'ETIMEDOUT'), 'UNAVAILABLE'],
    [facts(undefined, 'REQUEST_SEND_ERROR', 'RestError'), 'UNAVAILABLE'],
    [facts(undefined, undefined, 'AbortError'), 'UNAVAILABLE'],
    [facts(undefined, undefined, 'RestError'), 'UNAVAILABLE'],
    [facts(undefined, undefined, 'CredentialUnavailableError'), 'UNAUTHORIZED'],
    [facts(undefined, undefined, 'AuthenticationError'), 'UNAUTHORIZED'],
    [facts(undefined, undefined, 'TypeError'), 'INVALID'],
  ])('translates %j into %s', (input, expected) => {
    expect(lakeCodeOfAdlsFailure(input)).toBe(expected);
  });

  it('retries throttling and outages only', () => {
    expect(
      adlsErrorToLakeError(Object.assign(new Error(), { statusCode: 503 }), 'flush', 'p').retryable,
    ).toBe(true);
    expect(
      adlsErrorToLakeError(Object.assign(new Error(), { statusCode: 412 }), 'flush', 'p').retryable,
    ).toBe(false);
  });

  it('keeps no request, URL or service message from the SDK error', () => {
    const secret = 'sig=SECRETSIGNATURE';
    const restError = Object.assign(
      new Error(`Server failed: https://a.dfs.core.windows.net/f?${secret}`),
      {
        name: 'RestError',
        statusCode: 500,
        code: 'InternalError',
        request: {
          url: `https://a.dfs.core.windows.net/f?${secret}`,
          headers: { authorization: 'SharedKey a:KEY' },
        },
        response: {
          headers: { get: (name: string) => (name === 'x-ms-request-id' ? 'req-1' : undefined) },
        },
      },
    );
    const translated = adlsErrorToLakeError(restError, 'flush', 'db/x.jsonl');
    expect(translated.message).toBe('ADLS flush of db/x.jsonl failed (500 InternalError).');
    expect(translated.cause).toEqual({
      statusCode: 500,
      code: 'InternalError',
      name: 'RestError',
      requestId: 'req-1',
    });
    expect(JSON.stringify(translated.cause)).not.toContain('SECRET');
  });
});
