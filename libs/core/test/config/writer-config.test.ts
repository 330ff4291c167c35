import { describe, expect, it } from 'vitest';
import { isConfigError, loadWriterConfig } from '../../src/index.ts';

function settingsNamedBy(env: Record<string, string>): string[] {
  try {
    loadWriterConfig(env);
  } catch (error) {
    if (isConfigError(error)) return error.problems.map((p) => p.setting);
    throw error;
  }
  return [];
}

describe('writer configuration', () => {
  it('defaults to a local lake and 128 MiB files', () => {
    const config = loadWriterConfig({});
    expect(config.lake).toBe('local');
    expect(config.maxFileBytes).toBe(134217728);
    expect(config.pathTemplate).toBe('{db}/{coll}/year={YYYY}/month={MM}/day={DD}/hour={HH}');
  });

  it('needs a filesystem and an endpoint for ADLS', () => {
    expect(settingsNamedBy({ TRIBUTARY_LAKE: 'adls' })).toEqual([
      'ADLS_FILESYSTEM',
      'ADLS_ACCOUNT_URL',
    ]);
    expect(
      settingsNamedBy({
        TRIBUTARY_LAKE: 'adls',
        ADLS_FILESYSTEM: 'lake',
        ADLS_ACCOUNT_URL: 'https://acct.dfs.core.windows.net',
      }),
    ).toEqual([]);
  });

  it('refuses a path template with unknown placeholders or without the namespace', () => {
    expect(settingsNamedBy({ TRIBUTARY_PATH_TEMPLATE: '{db}/{coll}/{minute}' })).toEqual([
      'TRIBUTARY_PATH_TEMPLATE',
    ]);
    expect(settingsNamedBy({ TRIBUTARY_PATH_TEMPLATE: 'year={YYYY}' })).toEqual([
      'TRIBUTARY_PATH_TEMPLATE',
    ]);
  });

  it('keeps checkpoints in the lake by default, so they survive Redis restarting empty', () => {
    expect(loadWriterConfig({}).checkpointStore).toBe('lake');
    expect(settingsNamedBy({ TRIBUTARY_CHECKPOINT_STORE: 'etcd' })).toEqual([
      'TRIBUTARY_CHECKPOINT_STORE',
    ]);
  });

  it('refuses sizes below their floor', () => {
    expect(
      settingsNamedBy({ TRIBUTARY_MAX_FILE_BYTES: '10', TRIBUTARY_LEASE_TTL_MS: '1.5' }),
    ).toEqual(['TRIBUTARY_MAX_FILE_BYTES', 'TRIBUTARY_LEASE_TTL_MS']);
  });
});

describe('batch size limits', () => {
  it('refuses a batch limit larger than the transport carries, naming both sizes', () => {
    let message = '';
    try {
      loadWriterConfig({ TRIBUTARY_BATCH_MAX_BYTES: String(65 * 1024 * 1024) });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(
      'TRIBUTARY_BATCH_MAX_BYTES: is 68157440 bytes, more than the bullmq transport carries in one message (67108864)',
    );
    expect(loadWriterConfig({ TRIBUTARY_BATCH_MAX_BYTES: '67108864' }).batchMaxBytes).toBe(
      67108864,
    );
  });
});
