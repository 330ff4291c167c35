import { createHmac, timingSafeEqual } from 'node:crypto';
import type { OperationName, StorageRequest } from '../http/request.ts';
import { StorageError, errors } from '../http/storage-error.ts';

/**
 * Shared access signatures: account SAS
 * (https://learn.microsoft.com/rest/api/storageservices/create-account-sas)
 * and service SAS for a filesystem, directory or file
 * (https://learn.microsoft.com/rest/api/storageservices/create-service-sas),
 * in the string-to-sign form of version 2020-12-06 and later, which is what
 * the current SDK generates. User-delegation SAS is not supported (it needs
 * Microsoft Entra ID).
 */

/** What an operation needs: service-SAS permission letters (any one), account-SAS letters and resource type. */
interface Need {
  service: string;
  account: string;
  resourceType: 's' | 'c' | 'o';
}

const NEEDS: Record<OperationName, Need> = {
  'account.listFilesystems': { service: '', account: 'l', resourceType: 's' },
  'filesystem.create': { service: '', account: 'cw', resourceType: 'c' },
  'filesystem.delete': { service: '', account: 'd', resourceType: 'c' },
  'filesystem.getProperties': { service: 'r', account: 'r', resourceType: 'c' },
  'filesystem.setMetadata': { service: 'w', account: 'w', resourceType: 'c' },
  'filesystem.listPaths': { service: 'l', account: 'l', resourceType: 'c' },
  'path.create': { service: 'cw', account: 'cw', resourceType: 'o' },
  'path.rename': { service: 'm', account: 'w', resourceType: 'o' },
  'path.append': { service: 'aw', account: 'aw', resourceType: 'o' },
  'path.flush': { service: 'w', account: 'w', resourceType: 'o' },
  'path.setProperties': { service: 'w', account: 'w', resourceType: 'o' },
  'path.lease': { service: 'w', account: 'w', resourceType: 'o' },
  'path.read': { service: 'r', account: 'r', resourceType: 'o' },
  'path.getProperties': { service: 'r', account: 'r', resourceType: 'o' },
  'path.delete': { service: 'd', account: 'd', resourceType: 'o' },
  unsupported: { service: '', account: '', resourceType: 'o' },
};

function param(request: StorageRequest, name: string): string {
  return request.query.get(name) ?? '';
}

function signatureMatches(signature: string, text: string, key: Buffer): boolean {
  const expected = createHmac('sha256', key).update(text, 'utf8').digest();
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function checkTimes(request: StorageRequest): void {
  const now = Date.now();
  const start = param(request, 'st');
  const expiry = Date.parse(param(request, 'se'));
  if (Number.isNaN(expiry))
    throw errors.authenticationFailed('Signed expiry time is missing or not well formed.');
  if (start !== '' && (Number.isNaN(Date.parse(start)) || Date.parse(start) > now)) {
    throw errors.authenticationFailed('Signature not valid in the specified time frame.');
  }
  if (expiry < now)
    throw errors.authenticationFailed('Signed expiry time has to be after the current time.');
}

function checkProtocol(request: StorageRequest): void {
  const protocol = param(request, 'spr');
  // The emulator speaks plain HTTP, so a SAS limited to HTTPS cannot be used with it.
  if (protocol !== '' && !protocol.split(',').includes('http')) {
    throw new StorageError(
      403,
      'AuthorizationProtocolMismatch',
      'This request is not authorized to perform this operation using this protocol.',
    );
  }
}

function permissionMismatch(): StorageError {
  return errors.authorizationPermissionMismatch();
}

/** Verifies a SAS in the query string; throws 403 when invalid, expired or not enough for the operation. */
export function verifySas(request: StorageRequest, accountName: string, accountKey: Buffer): void {
  const signature = param(request, 'sig');
  const version = param(request, 'sv');
  if (version < '2020-12-06')
    throw errors.authenticationFailed(
      `SAS version ${version} is not supported by the emulator (use 2020-12-06 or later).`,
    );
  const need = NEEDS[request.operation];
  // An operation the emulator does not implement is refused by its handler
  // (400 UnsupportedQueryParameter / UnsupportedHeader), not reported as a permission problem.
  const checkPermissions = request.operation !== 'unsupported';
  if (request.query.has('ss')) {
    const text = [
      accountName,
      param(request, 'sp'),
      param(request, 'ss'),
      param(request, 'srt'),
      param(request, 'st'),
      param(request, 'se'),
      param(request, 'sip'),
      param(request, 'spr'),
      version,
      param(request, 'ses'),
      '',
    ].join('\n');
    if (!signatureMatches(signature, text, accountKey))
      throw errors.authenticationFailed('Signature did not match.');
    checkTimes(request);
    checkProtocol(request);
    if (!param(request, 'ss').includes('b')) {
      throw new StorageError(
        403,
        'AuthorizationServiceMismatch',
        'This request is not authorized to perform this operation using this service.',
      );
    }
    if (checkPermissions && !param(request, 'srt').includes(need.resourceType)) {
      throw new StorageError(
        403,
        'AuthorizationResourceTypeMismatch',
        'This request is not authorized to perform this operation using this resource type.',
      );
    }
    if (
      checkPermissions &&
      ![...need.account].some((letter) => param(request, 'sp').includes(letter))
    ) {
      throw permissionMismatch();
    }
    return;
  }
  const resource = param(request, 'sr');
  const canonical = serviceCanonicalName(request, accountName, resource);
  const text = [
    param(request, 'sp'),
    param(request, 'st'),
    param(request, 'se'),
    canonical,
    param(request, 'si'),
    param(request, 'sip'),
    param(request, 'spr'),
    version,
    resource,
    param(request, 'snapshot'),
    param(request, 'ses'),
    param(request, 'rscc'),
    param(request, 'rscd'),
    param(request, 'rsce'),
    param(request, 'rscl'),
    param(request, 'rsct'),
  ].join('\n');
  if (!signatureMatches(signature, text, accountKey))
    throw errors.authenticationFailed('Signature did not match.');
  if (param(request, 'si') !== '')
    throw errors.authenticationFailed('Stored access policies are not supported by the emulator.');
  checkTimes(request);
  checkProtocol(request);
  if (
    checkPermissions &&
    (need.service === '' ||
      ![...need.service].some((letter) => param(request, 'sp').includes(letter)))
  ) {
    throw permissionMismatch();
  }
}

/**
 * The resource a service SAS covers, rebuilt from the request: the
 * filesystem (`sr=c`), the file itself (`sr=b`) or the first `sdd` segments
 * of the path (`sr=d`). A SAS made for another resource fails the signature.
 */
function serviceCanonicalName(
  request: StorageRequest,
  accountName: string,
  resource: string,
): string {
  const base = `/blob/${accountName}/${request.filesystem}`;
  if (resource === 'c') return base;
  if (resource === 'b') return `${base}/${request.pathName}`;
  if (resource === 'd') {
    const depth = Number(param(request, 'sdd'));
    if (!Number.isInteger(depth) || depth < 0)
      throw errors.authenticationFailed('Signed directory depth is not well formed.');
    const segments = request.pathName.split('/').filter((segment) => segment !== '');
    return `${base}/${segments.slice(0, depth).join('/')}`;
  }
  throw errors.authenticationFailed('Signed resource is not well formed.');
}
