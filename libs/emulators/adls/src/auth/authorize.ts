import type { StorageRequest } from '../http/request.ts';
import { StorageError, errors } from '../http/storage-error.ts';
import { verifySas } from './sas.ts';
import { verifySharedKey } from './shared-key.ts';

/** The account the emulator serves. */
export interface AccountCredentials {
  name: string;
  key: Buffer;
}

/**
 * Authorizes a request with Shared Key or a SAS, as the service does; the
 * emulator has no anonymous access and no Microsoft Entra ID.
 */
export function authorize(request: StorageRequest, account: AccountCredentials): void {
  if (request.account !== account.name) {
    throw new StorageError(
      400,
      'InvalidUri',
      `The request URI is invalid: this emulator serves account '${account.name}'.`,
    );
  }
  const authorization = request.header('authorization');
  if (authorization !== undefined) {
    if (authorization.startsWith('Bearer ')) {
      throw errors.authenticationFailed(
        'Bearer tokens (Microsoft Entra ID) are not supported by the emulator; use Shared Key or SAS.',
      );
    }
    verifySharedKey(request, authorization, account.name, account.key);
    return;
  }
  if (request.query.has('sig')) {
    verifySas(request, account.name, account.key);
    return;
  }
  throw errors.noAuthenticationInformation();
}
