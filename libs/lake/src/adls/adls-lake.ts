import { randomUUID } from 'node:crypto';
import type {
  DataLakeFileClient,
  DataLakeFileSystemClient,
  DataLakeServiceClient,
} from '@azure/storage-file-datalake';
import { DEFAULT_BACKOFF, retry, type BackoffPolicy } from '@tributary/core';
import type {
  AppendOptions,
  CreateOptions,
  Lake,
  LakeEntry,
  LakeFileState,
  WriteCondition,
} from '../lake.ts';
import { LakeError } from '../lake-error.ts';
import {
  checkAppendOffset,
  checkLakePath,
  checkLakePrefix,
  checkReadRange,
  isReservedPath,
  reservedSibling,
} from '../paths/lake-path.ts';
import { createServiceClient, type AdlsLakeOptions } from './adls-client.ts';
import { adlsErrorToLakeError, adlsFailureFacts } from './adls-error.ts';
import { appendExactlyOnce } from './append-exactly-once.ts';
import { readBody } from './read-body.ts';

/**
 * The lake on Azure Data Lake Storage Gen2 (hierarchical namespace), through
 * the official SDK. A commit is a flush
 * (https://learn.microsoft.com/rest/api/storageservices/datalakestoragegen2/path/update):
 * readers see committed bytes only; a version is the file's ETag. Every
 * failure is translated into a {@link LakeError}; `THROTTLED` and
 * `UNAVAILABLE` are retried here with the core backoff, the only retry layer.
 */
export class AdlsLake implements Lake {
  readonly #filesystem: DataLakeFileSystemClient;
  readonly #policy: BackoffPolicy;
  readonly #onRetry: ((error: unknown, retry: number, delayMs: number) => void) | undefined;
  readonly #requestTimeoutMs: number;

  constructor(service: DataLakeServiceClient, options: AdlsLakeOptions) {
    this.#filesystem = service.getFileSystemClient(options.filesystem);
    this.#policy = options.retry ?? DEFAULT_BACKOFF;
    this.#onRetry = options.onRetry;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /**
   * Bounds one request on the client side. The SDK's own `tryTimeoutInMs`
   * only becomes the server-side `timeout=` query parameter, which a stalled
   * connection never honours; an aborted request fails as `UNAVAILABLE`
   * and is retried like any other lost answer.
   */
  #deadline(): { abortSignal: AbortSignal } {
    return { abortSignal: AbortSignal.timeout(this.#requestTimeoutMs) };
  }

  /** Creates the filesystem when it is missing; idempotent (a 409 from a concurrent creator is fine). */
  async ensureFilesystem(): Promise<void> {
    await this.#retry('create filesystem', '', () =>
      this.#filesystem.createIfNotExists(this.#deadline()),
    );
  }

  async stat(path: string): Promise<LakeFileState | undefined> {
    const file = this.#file(path);
    return this.#retry('stat', path, () => statFile(file, this.#deadline()));
  }

  async create(path: string, options: CreateOptions = {}): Promise<LakeFileState> {
    const file = this.#file(path);
    const lease =
      options.leaseId === undefined
        ? {}
        : { proposedLeaseId: options.leaseId, leaseDuration: INFINITE_LEASE };
    return this.#retry('create', path, async (attempt) => {
      try {
        // If-None-Match: * makes the create fail instead of truncating a file that exists.
        const response = await file.create({
          conditions: { ifNoneMatch: '*' },
          ...lease,
          ...this.#deadline(),
        });
        return { length: 0, version: requireEtag(response.etag, 'create', path) };
      } catch (error) {
        const code = adlsErrorToLakeError(error, 'create', path).code;
        if (code !== 'ALREADY_EXISTS' && code !== 'CONFLICT') throw error;
        // A retried create may meet the file its own lost-answer attempt made:
        // an empty file is taken as that one (see the report on create).
        if (attempt > 0) {
          const state = await statFile(file, this.#deadline());
          if (state?.length === 0) return state;
        }
        throw new LakeError('ALREADY_EXISTS', `${path} already exists.`, { cause: error });
      }
    });
  }

  async append(
    path: string,
    offset: number,
    data: Uint8Array,
    options: AppendOptions,
  ): Promise<LakeFileState> {
    const file = this.#file(path);
    checkAppendOffset(offset);
    // Both the staging append and the flush carry the lease: the flush's
    // If-Match alone would not stop another writer's staged bytes.
    const leaseId = options.leaseId;
    const translating = async <T>(operation: string, call: () => Promise<T>): Promise<T> => {
      try {
        return await call();
      } catch (error) {
        throw adlsErrorToLakeError(error, operation, path);
      }
    };
    return appendExactlyOnce(
      { path, offset, data, ifVersion: options.ifVersion, close: options.close ?? false },
      {
        stage: (at, bytes) =>
          translating('append', async () => {
            await file.append(bytes, at, bytes.length, {
              conditions: { leaseId },
              ...this.#deadline(),
            });
          }),
        commit: (position, ifVersion, close) =>
          translating('flush', async () => {
            const response = await file.flush(position, {
              close,
              conditions: { ifMatch: ifVersion, leaseId },
              ...this.#deadline(),
            });
            return { length: position, version: requireEtag(response.etag, 'flush', path) };
          }),
        stat: () => translating('stat', () => statFile(file, this.#deadline())),
        read: (at, length) =>
          translating('read', () => readRange(file, at, length, this.#deadline())),
      },
      this.#policy,
      this.#onRetry,
    );
  }

  async acquireLease(
    path: string,
    leaseId: string,
    options: { readonly takeOver?: boolean } = {},
  ): Promise<void> {
    const file = this.#file(path);
    await this.#retry('acquireLease', path, async () => {
      // Lease Blob (https://learn.microsoft.com/rest/api/storageservices/lease-blob):
      // acquiring again under the same id succeeds; a lease someone else
      // holds is broken at once (period 0) and then taken, when allowed.
      for (let attempt = 0; ; attempt += 1) {
        try {
          await file.getDataLakeLeaseClient(leaseId).acquireLease(INFINITE_LEASE, this.#deadline());
          return;
        } catch (error) {
          const facts = adlsFailureFacts(error);
          const held = facts.statusCode === 409 && facts.code === 'LeaseAlreadyPresent';
          if (!held || options.takeOver !== true || attempt >= MAX_TAKEOVER_ATTEMPTS) throw error;
        }
        await breakLease(file, this.#deadline());
      }
    });
  }

  async releaseLease(path: string, leaseId: string): Promise<void> {
    const file = this.#file(path);
    await this.#retry('releaseLease', path, async () => {
      try {
        await file.getDataLakeLeaseClient(leaseId).releaseLease(this.#deadline());
      } catch (error) {
        const { statusCode } = adlsFailureFacts(error);
        // 409: another lease or none holds it now; 404: the file is gone. Not ours to release either way.
        if (statusCode !== 409 && statusCode !== 404) throw error;
      }
    });
  }

  async delete(path: string, options: { readonly ifVersion?: string } = {}): Promise<void> {
    const file = this.#file(path);
    const conditions =
      options.ifVersion === undefined ? {} : { conditions: { ifMatch: options.ifVersion } };
    await this.#retry('delete', path, async (attempt) => {
      try {
        await file.delete(false, { ...conditions, ...this.#deadline() });
      } catch (error) {
        const { statusCode } = adlsFailureFacts(error);
        // Gone already (perhaps by an earlier attempt whose answer was lost): done.
        if (statusCode === 404) return;
        // A retried conditional delete whose first attempt landed meets no file (404, above).
        if (
          statusCode === 412 &&
          attempt > 0 &&
          (await statFile(file, this.#deadline())) === undefined
        )
          return;
        throw error;
      }
    });
  }

  async read(path: string, offset = 0, length?: number): Promise<Uint8Array> {
    const file = this.#file(path);
    checkReadRange(offset, length);
    return this.#retry('read', path, async () => {
      if (length === 0) {
        if ((await statFile(file, this.#deadline())) === undefined)
          throw new LakeError('NOT_FOUND', `${path} does not exist.`);
        return new Uint8Array(0);
      }
      return readRange(file, offset, length, this.#deadline());
    });
  }

  async readDocument(
    path: string,
  ): Promise<{ data: Uint8Array; state: LakeFileState } | undefined> {
    const file = this.#file(path);
    return this.#retry('readDocument', path, () => readWholeDocument(file, path, this.#deadline()));
  }

  async writeDocument(
    path: string,
    data: Uint8Array,
    condition: WriteCondition,
  ): Promise<LakeFileState> {
    const target = this.#file(path);
    const temporaryPath = reservedSibling(path, `tmp-${randomUUID()}`);
    const temporary = this.#filesystem.getFileClient(temporaryPath);
    try {
      // The whole document goes to a temporary path first; only the rename
      // makes it visible, so a reader never sees a partial checkpoint.
      await this.#retry('writeDocument upload', temporaryPath, async () => {
        await temporary.create(this.#deadline());
        if (data.length > 0) await temporary.append(data, 0, data.length, this.#deadline());
        await temporary.flush(data.length, { close: true, ...this.#deadline() });
      });
      return await this.#retry('writeDocument rename', path, (attempt) =>
        this.#renameOnto(temporary, target, path, data, condition, attempt),
      );
    } finally {
      // Gone after a successful rename; after a failure, a leftover is never listed.
      await deleteIgnoringFailure(temporary);
    }
  }

  /**
   * Renames the uploaded document onto `path` under the caller's condition
   * on the destination: `If-None-Match: *` for ifAbsent, `If-Match` for
   * ifVersion (Path - Create with `x-ms-rename-source`,
   * https://learn.microsoft.com/rest/api/storageservices/datalakestoragegen2/path/create).
   */
  async #renameOnto(
    temporary: DataLakeFileClient,
    target: DataLakeFileClient,
    path: string,
    data: Uint8Array,
    condition: WriteCondition,
    attempt: number,
  ): Promise<LakeFileState> {
    try {
      const response = await temporary.move(escapePath(path), {
        destinationConditions:
          'ifAbsent' in condition ? { ifNoneMatch: '*' } : { ifMatch: condition.ifVersion },
        ...this.#deadline(),
      });
      // The rename answers with the ETag it gave the target.
      if (response.etag !== undefined) return { length: data.length, version: response.etag };
      return await stateOfOurDocument(target, path, data, this.#deadline());
    } catch (error) {
      const translated = adlsErrorToLakeError(error, 'writeDocument', path);
      // A retried rename whose source is gone: the earlier attempt renamed it
      // and its answer was lost. Ours if the target holds exactly our bytes.
      if (attempt > 0 && translated.code === 'NOT_FOUND')
        return stateOfOurDocument(target, path, data, this.#deadline());
      if (
        translated.code === 'CONFLICT' ||
        translated.code === 'ALREADY_EXISTS' ||
        translated.code === 'NOT_FOUND'
      )
        throw new LakeError('CONFLICT', `${path} does not meet the write's condition.`, {
          cause: translated,
        });
      throw translated;
    }
  }

  async *list(prefix: string): AsyncIterable<LakeEntry> {
    const normalised = checkLakePrefix(prefix);
    let continuationToken: string | undefined;
    do {
      // One page per request, each retried on its own from its continuation
      // token, so a throttled page does not restart the listing.
      const token = continuationToken;
      const page = await this.#retry('list', normalised, async () => {
        try {
          const pages = this.#filesystem
            .listPaths({
              ...(normalised === '' ? {} : { path: normalised }),
              recursive: true,
              ...this.#deadline(),
            })
            .byPage(token === undefined ? {} : { continuationToken: token });
          const next = await pages.next();
          return next.done === true ? undefined : next.value;
        } catch (error) {
          // A prefix that names no directory lists nothing.
          if (adlsFailureFacts(error).statusCode === 404) return undefined;
          throw error;
        }
      });
      if (page === undefined) return;
      for (const item of page.pathItems ?? []) {
        if (item.isDirectory === true || item.name === undefined || isReservedPath(item.name))
          continue;
        yield { path: item.name, length: item.contentLength ?? 0 };
      }
      continuationToken = page.continuation === '' ? undefined : page.continuation;
    } while (continuationToken !== undefined);
  }

  /**
   * Nothing to release: the SDK keeps no connection that outlives a request
   * beyond Node's keep-alive pool, which does not hold the process open.
   * Idempotent.
   */
  async close(): Promise<void> {}

  #file(path: string): DataLakeFileClient {
    return this.#filesystem.getFileClient(checkLakePath(path));
  }

  /** Runs one request (or a few) with the core backoff, translating every failure. */
  #retry<T>(operation: string, path: string, call: (attempt: number) => Promise<T>): Promise<T> {
    return retry(
      async (attempt) => {
        try {
          return await call(attempt);
        } catch (error) {
          throw adlsErrorToLakeError(error, operation, path);
        }
      },
      this.#onRetry === undefined
        ? { policy: this.#policy }
        : { policy: this.#policy, onRetry: this.#onRetry },
    );
  }
}

/** Leases of data files never expire on their own: they are released or taken over. */
const INFINITE_LEASE = -1;

/** Break-then-acquire rounds before a takeover gives up (another taker keeps winning). */
const MAX_TAKEOVER_ATTEMPTS = 3;

/** Ends whatever lease holds the file at once; a lease already gone is fine. */
async function breakLease(
  file: DataLakeFileClient,
  deadline: { abortSignal: AbortSignal },
): Promise<void> {
  try {
    await file.getDataLakeLeaseClient().breakLease(0, deadline);
  } catch (error) {
    const { statusCode, code } = adlsFailureFacts(error);
    if (statusCode !== 409 || code !== 'LeaseNotPresentWithLeaseOperation') throw error;
  }
}

/** Content-Length and ETag of a file (Blob Get Properties, a HEAD); `undefined` on 404. */
async function statFile(
  file: DataLakeFileClient,
  deadline: { abortSignal: AbortSignal },
): Promise<LakeFileState | undefined> {
  try {
    const properties = await file.getProperties(deadline);
    // Through the Blob API a directory of a hierarchical namespace is an
    // empty blob marked `hdi_isfolder`; the port only knows files.
    if (properties.metadata?.hdi_isfolder === 'true') return undefined;
    return {
      length: properties.contentLength ?? 0,
      version: requireEtag(properties.etag, 'stat', file.name),
    };
  } catch (error) {
    if (adlsFailureFacts(error).statusCode === 404) return undefined;
    throw error;
  }
}

/** Committed bytes of a range (a ranged GET); past the end is empty, not an error. */
async function readRange(
  file: DataLakeFileClient,
  offset: number,
  length: number | undefined,
  deadline: { abortSignal: AbortSignal },
): Promise<Uint8Array> {
  try {
    // maxRetryRequests: 0 — the SDK would otherwise re-request a broken body
    // stream itself, a second retry layer under ours.
    const response = await file.read(offset, length, { maxRetryRequests: 0, ...deadline });
    return await readBody(response.readableStreamBody);
  } catch (error) {
    // 416 InvalidRange: the offset is at or past the committed length.
    if (adlsFailureFacts(error).statusCode === 416) return new Uint8Array(0);
    throw error;
  }
}

/**
 * The target's state if it holds exactly `data` (read between two stats
 * that agree, so the version belongs to those bytes).
 *
 * @throws LakeError `CONFLICT` when it holds something else or keeps changing.
 */
async function stateOfOurDocument(
  target: DataLakeFileClient,
  path: string,
  data: Uint8Array,
  deadline: { abortSignal: AbortSignal },
): Promise<LakeFileState> {
  const stored = await readWholeDocument(target, path, deadline);
  if (stored !== undefined && Buffer.from(stored.data).equals(Buffer.from(data)))
    return stored.state;
  throw new LakeError('CONFLICT', `${path} was replaced by another writer.`);
}

/**
 * A whole small file with the ETag of exactly those bytes: one GET answers
 * with both, so they cannot belong to different versions. `undefined` on 404.
 */
async function readWholeDocument(
  file: DataLakeFileClient,
  path: string,
  deadline: { abortSignal: AbortSignal },
): Promise<{ data: Uint8Array; state: LakeFileState } | undefined> {
  try {
    // maxRetryRequests: 0 — our retry layer is the only one.
    const response = await file.read(0, undefined, { maxRetryRequests: 0, ...deadline });
    if (response.metadata?.hdi_isfolder === 'true') return undefined;
    const data = await readBody(response.readableStreamBody);
    const version = requireEtag(response.etag, 'readDocument', path);
    return { data, state: { length: data.length, version } };
  } catch (error) {
    if (adlsFailureFacts(error).statusCode === 404) return undefined;
    throw error;
  }
}

function requireEtag(etag: string | undefined, operation: string, path: string): string {
  if (etag === undefined)
    throw new LakeError('UNAVAILABLE', `ADLS ${operation} of ${path} answered without an ETag.`);
  return etag;
}

/**
 * The SDK's `move` puts the destination into a URL without escaping it (and
 * splits it at `?`); escaping each segment keeps names with `%`, `?`, `#` or
 * spaces — which path templates produce — intact.
 */
function escapePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

async function deleteIgnoringFailure(file: DataLakeFileClient): Promise<void> {
  try {
    await file.deleteIfExists();
  } catch (_error) {
    // Deliberately ignored: a leftover temporary document is never listed
    // (reserved name) and does not affect any condition.
  }
}

/**
 * Creates the ADLS Gen2 lake and, before returning, the filesystem if it is
 * missing (so bad credentials fail at start, not at the first write).
 *
 * @throws LakeError `INVALID` for unusable options, `UNAUTHORIZED` for refused credentials.
 */
export async function createAdlsLake(options: AdlsLakeOptions): Promise<Lake> {
  const lake = new AdlsLake(await createServiceClient(options), options);
  await lake.ensureFilesystem();
  return lake;
}
