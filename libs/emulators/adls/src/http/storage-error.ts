/**
 * The one error type the emulator's request handlers throw. The server turns
 * it into the service's wire format (JSON on DFS operations, XML on Blob
 * operations) with the `x-ms-error-code` header, so the official SDK raises a
 * `RestError` with the same `statusCode` and `code` as against Azure.
 *
 * Codes and messages follow the ADLS Gen2 REST reference's error table
 * (https://learn.microsoft.com/rest/api/storageservices/datalakestoragegen2/path/update)
 * and the Blob service error codes
 * (https://learn.microsoft.com/rest/api/storageservices/blob-service-error-codes).
 */
export class StorageError extends Error {
  /** HTTP status the service answers with. */
  readonly status: number;
  /** The service's error code, sent as `x-ms-error-code`. */
  readonly code: string;
  /** Extra response headers (e.g. `Content-Range` on 416). */
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'StorageError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** True when `value` is a {@link StorageError}. */
export function isStorageError(value: unknown): value is StorageError {
  return value instanceof StorageError;
}

/** Common errors, named once so every route answers with the same words. */
export const errors = {
  filesystemNotFound: (blob: boolean): StorageError =>
    blob
      ? new StorageError(404, 'ContainerNotFound', 'The specified container does not exist.')
      : new StorageError(404, 'FilesystemNotFound', 'The specified filesystem does not exist.'),
  filesystemAlreadyExists: (blob: boolean): StorageError =>
    blob
      ? new StorageError(409, 'ContainerAlreadyExists', 'The specified container already exists.')
      : new StorageError(
          409,
          'FilesystemAlreadyExists',
          'The specified filesystem already exists.',
        ),
  pathNotFound: (blob: boolean): StorageError =>
    blob
      ? new StorageError(404, 'BlobNotFound', 'The specified blob does not exist.')
      : new StorageError(404, 'PathNotFound', 'The specified path does not exist.'),
  pathAlreadyExists: (): StorageError =>
    new StorageError(409, 'PathAlreadyExists', 'The specified path already exists.'),
  pathConflict: (): StorageError =>
    new StorageError(
      409,
      'PathConflict',
      'The specified path, or an element of the path, exists and its resource type is invalid for this operation.',
    ),
  resourceTypeMismatch: (): StorageError =>
    new StorageError(
      409,
      'ResourceTypeMismatch',
      'The resource type specified in the request does not match the type of the resource.',
    ),
  conditionNotMet: (): StorageError =>
    new StorageError(
      412,
      'ConditionNotMet',
      'The condition specified using HTTP conditional header(s) is not met.',
    ),
  sourceConditionNotMet: (): StorageError =>
    new StorageError(
      412,
      'SourceConditionNotMet',
      'The source condition specified using HTTP conditional header(s) is not met.',
    ),
  invalidFlushPosition: (): StorageError =>
    new StorageError(
      400,
      'InvalidFlushPosition',
      'The uploaded data is not contiguous or the position query parameter value is not equal to the length of the file after appending the uploaded data.',
    ),
  invalidHeaderValue: (header: string): StorageError =>
    new StorageError(
      400,
      'InvalidHeaderValue',
      `The value for one of the HTTP headers is not in the correct format. (${header})`,
    ),
  invalidQueryParameterValue: (name: string): StorageError =>
    new StorageError(
      400,
      'InvalidQueryParameterValue',
      `Value for one of the query parameters specified in the request URI is invalid. (${name})`,
    ),
  missingRequiredQueryParameter: (name: string): StorageError =>
    new StorageError(
      400,
      'MissingRequiredQueryParameter',
      `A query parameter that's mandatory for this request is not specified. (${name})`,
    ),
  missingRequiredHeader: (name: string): StorageError =>
    new StorageError(
      400,
      'MissingRequiredHeader',
      `An HTTP header that's mandatory for this request is not specified. (${name})`,
    ),
  unsupportedHeader: (name: string): StorageError =>
    new StorageError(
      400,
      'UnsupportedHeader',
      `One of the headers specified in the request is not supported. (${name})`,
    ),
  unsupportedQueryParameter: (name: string): StorageError =>
    new StorageError(
      400,
      'UnsupportedQueryParameter',
      `One of the query parameters specified in the request URI is not supported. (${name})`,
    ),
  unsupportedHttpVerb: (): StorageError =>
    new StorageError(
      405,
      'UnsupportedHttpVerb',
      "The resource doesn't support the specified HTTP verb.",
    ),
  invalidResourceName: (): StorageError =>
    new StorageError(
      400,
      'InvalidResourceName',
      'The specified resource name contains invalid characters.',
    ),
  invalidUri: (): StorageError =>
    new StorageError(400, 'InvalidUri', 'The request URI is invalid.'),
  contentLengthMustBeZero: (): StorageError =>
    new StorageError(
      400,
      'ContentLengthMustBeZero',
      'The Content-Length request header must be zero.',
    ),
  requestBodyTooLarge: (): StorageError =>
    new StorageError(
      413,
      'RequestBodyTooLarge',
      'The request body is too large and exceeds the maximum permissible limit.',
    ),
  md5Mismatch: (): StorageError =>
    new StorageError(
      400,
      'Md5Mismatch',
      'The MD5 value specified in the request did not match with the MD5 value calculated by the server.',
    ),
  invalidRange: (size: number): StorageError =>
    new StorageError(
      416,
      'InvalidRange',
      'The range specified is invalid for the current size of the resource.',
      {
        'Content-Range': `bytes */${size}`,
      },
    ),
  authenticationFailed: (detail: string): StorageError =>
    new StorageError(
      403,
      'AuthenticationFailed',
      `Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.\nAuthenticationErrorDetail: ${detail}`,
    ),
  noAuthenticationInformation: (): StorageError =>
    new StorageError(
      401,
      'NoAuthenticationInformation',
      'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.',
    ),
  authorizationPermissionMismatch: (): StorageError =>
    new StorageError(
      403,
      'AuthorizationPermissionMismatch',
      'This request is not authorized to perform this operation using this permission.',
    ),
  internalError: (): StorageError =>
    new StorageError(
      500,
      'InternalError',
      'The server encountered an internal error. Please retry the request.',
    ),
  injectedRefusal: (code: string): StorageError =>
    new StorageError(400, code, 'The request is not valid for this resource.'),
  injectedConflict: (code: string): StorageError =>
    new StorageError(409, code, 'The request conflicts with the state of the resource.'),
  serverBusy: (): StorageError =>
    new StorageError(
      503,
      'ServerBusy',
      'The server is currently unable to receive requests. Please retry your request.',
    ),
} as const;
