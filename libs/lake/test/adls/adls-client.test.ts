import { describe, expect, it } from 'vitest';
import { createServiceClient } from '../../src/adls/adls-client.ts';
import { isLakeError } from '../../src/lake-error.ts';

async function failureOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isLakeError(error)) throw new Error('expected a LakeError');
  return { code: error.code, message: error.message };
}

describe('ADLS client options', () => {
  it('refuses options without a filesystem or an account, with INVALID', async () => {
    expect((await failureOf(createServiceClient({ filesystem: '' }))).code).toBe('INVALID');
    expect((await failureOf(createServiceClient({ filesystem: 'lake' }))).code).toBe('INVALID');
    expect(
      (await failureOf(createServiceClient({ filesystem: 'lake', accountUrl: 'ftp://x' }))).code,
    ).toBe('INVALID');
  });

  it('refuses a key without an account name', async () => {
    const failure = await failureOf(
      createServiceClient({
        filesystem: 'lake',
        accountUrl: 'https://a.dfs.core.windows.net',
        accountKey: 'S2V5',
      }),
    );
    expect(failure.code).toBe('INVALID');
    expect(failure.message).not.toContain('S2V5');
  });

  it('never repeats a malformed connection string in its error', async () => {
    const secret = 'AccountKey=TOPSECRET;garbage';
    const failure = await failureOf(
      createServiceClient({ filesystem: 'lake', connectionString: secret }),
    );
    expect(failure.code).toBe('INVALID');
    expect(failure.message).not.toContain('TOPSECRET');
  });

  it('derives the DFS endpoint from an account name', async () => {
    const client = await createServiceClient({
      filesystem: 'lake',
      accountName: 'acct',
      accountKey: 'S2V5',
    });
    expect(client.url).toBe('https://acct.dfs.core.windows.net/');
  });

  it('keeps a SAS token in the URL it calls, not in the options it reports', async () => {
    const client = await createServiceClient({
      filesystem: 'lake',
      accountUrl: 'https://acct.dfs.core.windows.net',
      sasToken: '?sv=2024&sig=abc',
    });
    expect(client.url).toContain('sig=abc');
  });
});
