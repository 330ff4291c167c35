import type { BackoffPolicy } from '@tributary/core';
import { createAdlsLake } from './adls/adls-lake.ts';
import type { Lake } from './lake.ts';
import { createLocalLake } from './local/local-lake.ts';

/** The lake settings both services read (see `sharedSettings` in `@tributary/core`). */
export interface LakeSettings {
  readonly lake: 'adls' | 'local';
  readonly lakeDir: string;
  readonly adlsAccountUrl?: string;
  readonly adlsFilesystem?: string;
  readonly adlsConnectionString?: string;
  readonly adlsAccountKey?: string;
  readonly adlsSasToken?: string;
}

/**
 * The storage account's name in an account URL: the first label of an Azure
 * host (`acct.dfs.core.windows.net`), or the first path segment of a
 * path-style URL (`http://127.0.0.1:10004/acct`, as emulators use).
 */
export function accountNameOf(accountUrl: string): string {
  const url = new URL(accountUrl);
  const pathAccount = url.pathname.split('/').find((segment) => segment.length > 0);
  return pathAccount ?? url.hostname.split('.')[0] ?? '';
}

/** Opens the lake the validated settings name. */
export async function createLakeFromConfig(
  settings: LakeSettings,
  options: {
    retry?: BackoffPolicy;
    onRetry?: (error: unknown, retry: number, delayMs: number) => void;
  } = {},
): Promise<Lake> {
  if (settings.lake === 'local') return createLocalLake({ rootDir: settings.lakeDir });
  const accountUrl = settings.adlsAccountUrl;
  return createAdlsLake({
    filesystem: settings.adlsFilesystem ?? '',
    ...(accountUrl ? { accountUrl } : {}),
    ...(settings.adlsConnectionString ? { connectionString: settings.adlsConnectionString } : {}),
    ...(settings.adlsAccountKey && accountUrl
      ? { accountName: accountNameOf(accountUrl), accountKey: settings.adlsAccountKey }
      : {}),
    ...(settings.adlsSasToken ? { sasToken: settings.adlsSasToken } : {}),
    ...options,
  });
}
