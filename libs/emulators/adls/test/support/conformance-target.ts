import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DataLakeServiceClient,
  StorageSharedKeyCredential,
  type DataLakeFileSystemClient,
  type StoragePipelineOptions,
} from '@azure/storage-file-datalake';
import { startAdlsEmulator, type AdlsEmulator } from '../../src/index.ts';

/**
 * Where the conformance suite runs: the emulator by default, or a real ADLS
 * Gen2 (hierarchical namespace) account when `ADLS_TEST_ACCOUNT_URL`,
 * `ADLS_TEST_ACCOUNT_NAME` and `ADLS_TEST_ACCOUNT_KEY` are set (the URL is
 * the account's DFS or Blob endpoint, e.g. `https://acct.dfs.core.windows.net`).
 * Checks that need emulator-only control skip themselves with
 * `it.skipIf(!target.isEmulator)`.
 */
export const realAccount =
  process.env['ADLS_TEST_ACCOUNT_URL'] &&
  process.env['ADLS_TEST_ACCOUNT_NAME'] &&
  process.env['ADLS_TEST_ACCOUNT_KEY']
    ? {
        url: process.env['ADLS_TEST_ACCOUNT_URL'].replace(/\/+$/, ''),
        name: process.env['ADLS_TEST_ACCOUNT_NAME'],
        key: process.env['ADLS_TEST_ACCOUNT_KEY'],
      }
    : undefined;

/** True when the suite talks to the emulator (not a real account). */
export const onEmulator = realAccount === undefined;

/** One conformance run's target and the clients to reach it. */
export interface ConformanceTarget {
  isEmulator: boolean;
  /** The emulator, when the target is the emulator. */
  emulator: AdlsEmulator | undefined;
  url: string;
  accountName: string;
  accountKey: string;
  credential: StorageSharedKeyCredential;
  service: DataLakeServiceClient;
  /** A client with other pipeline options (e.g. no retries). */
  serviceWith(options: StoragePipelineOptions): DataLakeServiceClient;
  /** A new, created filesystem with a unique name; deleted by {@link close}. */
  newFilesystem(prefix?: string): Promise<DataLakeFileSystemClient>;
  /** Deletes what the run created, stops the emulator and removes its data. */
  close(): Promise<void>;
}

/** Fast failure on the emulator; a few retries against a real account's transient errors. */
function defaultPipeline(isEmulator: boolean): StoragePipelineOptions {
  return isEmulator
    ? { retryOptions: { maxTries: 1 } }
    : { retryOptions: { maxTries: 3, retryDelayInMs: 500 } };
}

/** Opens the target for one test file. */
export async function openTarget(): Promise<ConformanceTarget> {
  let emulator: AdlsEmulator | undefined;
  let dataDir: string | undefined;
  let url: string;
  let accountName: string;
  let accountKey: string;
  if (realAccount) {
    ({ url, name: accountName, key: accountKey } = realAccount);
  } else {
    dataDir = mkdtempSync(path.join(tmpdir(), 'adls-conformance-'));
    emulator = await startAdlsEmulator({ dataDir });
    ({ url, accountName, accountKey } = emulator);
  }
  const credential = new StorageSharedKeyCredential(accountName, accountKey);
  const isEmulator = emulator !== undefined;
  const serviceWith = (options: StoragePipelineOptions): DataLakeServiceClient =>
    new DataLakeServiceClient(url, credential, { ...defaultPipeline(isEmulator), ...options });
  const service = serviceWith({});
  const created: DataLakeFileSystemClient[] = [];
  return {
    isEmulator,
    emulator,
    url,
    accountName,
    accountKey,
    credential,
    service,
    serviceWith,
    async newFilesystem(prefix = 'conf') {
      const fs = service.getFileSystemClient(`${prefix}-${randomBytes(6).toString('hex')}`);
      await fs.create();
      created.push(fs);
      return fs;
    },
    async close() {
      for (const fs of created) {
        try {
          await fs.deleteIfExists();
        } catch (error) {
          // Clean-up is best effort: a failed delete must not hide the test's own result.
          console.warn(`could not delete ${fs.name}:`, error);
        }
      }
      await emulator?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Deterministic test bytes of `size` (so a mismatch shows where). */
export function patternBytes(size: number, seed = 1): Buffer {
  const buffer = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buffer[i] = x & 0xff;
  }
  return buffer;
}

/** The `RestError` a promise rejects with (fails the test when it resolves). */
export async function restError(
  promise: Promise<unknown>,
): Promise<{ statusCode: number; code: string | undefined; errorCode: string | undefined }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { statusCode?: number; code?: string; details?: { errorCode?: string } };
    return { statusCode: e.statusCode ?? -1, code: e.code, errorCode: e.details?.errorCode };
  }
  throw new Error('expected the request to fail, but it succeeded');
}
