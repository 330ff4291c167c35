import type { TokenCredential } from '@azure/identity';
import {
  AnonymousCredential,
  DataLakeServiceClient,
  StorageSharedKeyCredential,
  type StoragePipelineOptions,
} from '@azure/storage-file-datalake';
import type { BackoffPolicy } from '@tributary/core';
import { LakeError } from '../lake-error.ts';

/** Options of {@link createAdlsLake}. Give one way to authenticate; see {@link createServiceClient}. */
export interface AdlsLakeOptions {
  /** `https://<account>.dfs.core.windows.net` (or an emulator's URL); optional with a connection string or an account name. */
  readonly accountUrl?: string;
  /** The filesystem (container) holding the lake; created at start when missing. */
  readonly filesystem: string;
  /** A storage connection string (account key or SAS); a secret, never logged. */
  readonly connectionString?: string;
  /** Account name, for shared-key authentication with {@link accountKey}. */
  readonly accountName?: string;
  /** Base64 account key; a secret, never logged. */
  readonly accountKey?: string;
  /** A SAS token (with or without the leading `?`); a secret, never logged. */
  readonly sasToken?: string;
  /** An Entra ID credential; `DefaultAzureCredential` when no other way is given. */
  readonly credential?: TokenCredential;
  /** The one retry layer: backoff for `THROTTLED`/`UNAVAILABLE` (default the core's `DEFAULT_BACKOFF`). */
  readonly retry?: BackoffPolicy;
  /** Each HTTP request is abandoned (and retried as `UNAVAILABLE`) after this long (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Called before each retry's wait, for logs and metrics; errors are already `LakeError`s. */
  readonly onRetry?: (error: unknown, retry: number, delayMs: number) => void;
}

/**
 * The SDK's pipeline with its own retry policy reduced to a single try, so
 * that the adapter's {@link BackoffPolicy} is the only retry layer: two
 * stacked layers multiply attempts and delays, and the SDK's layer would
 * retry a flush whose answer was lost without the stat that tells whether it
 * landed. `tryTimeoutInMs` is only the server-side `timeout=` parameter;
 * the client-side bound is an abort signal on each request (see `AdlsLake`).
 */
function pipelineOptions(options: AdlsLakeOptions): StoragePipelineOptions {
  return { retryOptions: { maxTries: 1, tryTimeoutInMs: options.requestTimeoutMs ?? 30_000 } };
}

function invalid(message: string): LakeError {
  return new LakeError('INVALID', `ADLS lake options: ${message}`);
}

/**
 * Builds the SDK client from the first way to authenticate that is given:
 * connection string; account name + key; SAS token; an explicit credential;
 * otherwise `DefaultAzureCredential` (managed identity in the cloud,
 * developer sign-in on a laptop), loaded only then.
 *
 * @throws LakeError `INVALID` for options that cannot work; messages never include secrets.
 */
export async function createServiceClient(
  options: AdlsLakeOptions,
): Promise<DataLakeServiceClient> {
  if (typeof options.filesystem !== 'string' || options.filesystem === '')
    throw invalid('filesystem is required.');
  const pipeline = pipelineOptions(options);
  if (options.connectionString !== undefined) {
    try {
      return DataLakeServiceClient.fromConnectionString(options.connectionString, pipeline);
    } catch (_error) {
      // The SDK's message may quote the connection string: say only that it is wrong.
      throw invalid('connectionString is not a valid storage connection string.');
    }
  }
  const accountUrl =
    options.accountUrl ??
    (options.accountName === undefined
      ? undefined
      : `https://${options.accountName}.dfs.core.windows.net`);
  if (accountUrl === undefined) throw invalid('give accountUrl, accountName, or connectionString.');
  if (!/^https?:\/\//.test(accountUrl)) throw invalid('accountUrl must be an http(s) URL.');
  if (options.accountKey !== undefined) {
    if (options.accountName === undefined) throw invalid('accountKey needs accountName.');
    return new DataLakeServiceClient(
      accountUrl,
      new StorageSharedKeyCredential(options.accountName, options.accountKey),
      pipeline,
    );
  }
  if (options.sasToken !== undefined) {
    const sas = options.sasToken.replace(/^\?/, '');
    const separator = accountUrl.includes('?') ? '&' : '?';
    return new DataLakeServiceClient(
      `${accountUrl}${separator}${sas}`,
      new AnonymousCredential(),
      pipeline,
    );
  }
  const credential =
    options.credential ?? new (await import('@azure/identity')).DefaultAzureCredential();
  return new DataLakeServiceClient(accountUrl, credential, pipeline);
}
