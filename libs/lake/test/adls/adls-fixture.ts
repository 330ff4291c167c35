import { randomUUID } from 'node:crypto';
import { DataLakeServiceClient, StorageSharedKeyCredential } from '@azure/storage-file-datalake';
import type { BackoffPolicy } from '@tributary/core';
import { createAdlsLake } from '../../src/adls/adls-lake.ts';
import type { AdlsLakeOptions } from '../../src/adls/adls-client.ts';
import type { LakeFixture } from '../lake-conformance.ts';

/** Short, bounded backoff for tests: failures show up in seconds, not minutes. */
export const TEST_BACKOFF: BackoffPolicy = {
  maxRetries: 10,
  initialIntervalMs: 5,
  maxIntervalMs: 50,
  maxElapsedMs: 10_000,
  jitter: 0.5,
};

/** Where an ADLS conformance run points: the emulator or a real account. */
export interface AdlsTarget {
  readonly accountUrl: string;
  readonly accountName: string;
  readonly accountKey: string;
}

/** A real account from `ADLS_TEST_*`, or `undefined` when not configured. */
export function realAccountFromEnv(): (AdlsTarget & { filesystem?: string }) | undefined {
  const {
    ADLS_TEST_ACCOUNT_URL,
    ADLS_TEST_ACCOUNT_NAME,
    ADLS_TEST_ACCOUNT_KEY,
    ADLS_TEST_FILESYSTEM,
  } = process.env;
  if (!ADLS_TEST_ACCOUNT_URL || !ADLS_TEST_ACCOUNT_NAME || !ADLS_TEST_ACCOUNT_KEY) return undefined;
  return {
    accountUrl: ADLS_TEST_ACCOUNT_URL,
    accountName: ADLS_TEST_ACCOUNT_NAME,
    accountKey: ADLS_TEST_ACCOUNT_KEY,
    ...(ADLS_TEST_FILESYSTEM ? { filesystem: ADLS_TEST_FILESYSTEM } : {}),
  };
}

/**
 * A fresh lake per test in a filesystem of its own (named from
 * `ADLS_TEST_FILESYSTEM` as a prefix when given), deleted in teardown, so
 * no test sees another's files.
 */
export async function makeAdlsFixture(
  target: AdlsTarget,
  extra: Partial<AdlsLakeOptions> = {},
  filesystem = `${process.env.ADLS_TEST_FILESYSTEM ?? 'tributary-test'}-${randomUUID().slice(0, 18)}`,
): Promise<LakeFixture> {
  const options: AdlsLakeOptions = {
    accountUrl: target.accountUrl,
    accountName: target.accountName,
    accountKey: target.accountKey,
    filesystem,
    retry: TEST_BACKOFF,
    ...extra,
  };
  const lake = await createAdlsLake(options);
  const otherClient = await createAdlsLake(options);
  return {
    lake,
    otherClient,
    async dispose() {
      await lake.close();
      await otherClient.close();
      const service = new DataLakeServiceClient(
        target.accountUrl,
        new StorageSharedKeyCredential(target.accountName, target.accountKey),
      );
      await service.getFileSystemClient(filesystem).deleteIfExists();
    },
  };
}
