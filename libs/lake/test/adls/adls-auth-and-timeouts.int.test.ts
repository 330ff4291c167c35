import { randomUUID } from 'node:crypto';
import {
  AccountSASPermissions,
  DataLakeServiceClient,
  StorageSharedKeyCredential,
} from '@azure/storage-file-datalake';
import { startAdlsEmulator, type AdlsEmulator } from '@tributary/emulator-adls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAdlsLake } from '../../src/adls/adls-lake.ts';
import type { Lake } from '../../src/lake.ts';
import { expectLakeError } from '../lake-conformance.ts';
import { TEST_BACKOFF } from './adls-fixture.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('adls lake authentication, closing flushes and request timeouts (ADLS emulator)', () => {
  let emulator: AdlsEmulator;
  const opened: Lake[] = [];

  beforeAll(async () => {
    emulator = await startAdlsEmulator();
  });
  afterEach(async () => {
    emulator.faults.clear();
    for (const lake of opened.splice(0)) await lake.close();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  /** An account SAS of the emulator's account, expiring at `expiresOn`. */
  function accountSas(expiresOn: Date): string {
    const service = new DataLakeServiceClient(
      emulator.url,
      new StorageSharedKeyCredential(emulator.accountName, emulator.accountKey),
    );
    const url = service.generateAccountSasUrl(
      expiresOn,
      AccountSASPermissions.parse('rwdlacup'),
      'sco',
    );
    return new URL(url).search;
  }

  async function open(options: Partial<Parameters<typeof createAdlsLake>[0]> = {}) {
    const lake = await createAdlsLake({
      accountUrl: emulator.url,
      accountName: emulator.accountName,
      accountKey: emulator.accountKey,
      filesystem: `auth-${randomUUID().slice(0, 8)}`,
      retry: TEST_BACKOFF,
      ...options,
    });
    opened.push(lake);
    return lake;
  }

  it('writes and reads with a SAS token alone', async () => {
    const sasToken = accountSas(new Date(Date.now() + 3_600_000));
    const lake = await open({ accountName: undefined, accountKey: undefined, sasToken });
    const created = await lake.create('db/coll/part-0000-a.jsonl');
    await lake.append('db/coll/part-0000-a.jsonl', 0, bytes('{"a":1}\n'), {
      ifVersion: created.version,
    });
    expect(Buffer.from(await lake.read('db/coll/part-0000-a.jsonl')).toString()).toBe('{"a":1}\n');
  });

  it('refuses an expired SAS token with UNAUTHORIZED, without the token in the message', async () => {
    const sasToken = accountSas(new Date(Date.now() - 60_000));
    const signature = new URLSearchParams(sasToken).get('sig') ?? 'no-signature';
    const failure = await createAdlsLake({
      accountUrl: emulator.url,
      sasToken,
      filesystem: 'never-created',
      retry: TEST_BACKOFF,
    }).catch((error: unknown) => error);
    await expectLakeError(Promise.reject(failure), 'UNAUTHORIZED');
    expect(String(failure)).not.toContain(signature);
    expect(JSON.stringify(failure)).not.toContain(signature);
  });

  it('sends close=true on a closing append, as the service records it', async () => {
    const filesystem = `close-${randomUUID().slice(0, 8)}`;
    const lake = await open({ filesystem });
    const path = 'db/coll/part-0000-b.jsonl';
    const created = await lake.create(path);
    const open1 = await lake.append(path, 0, bytes('{"a":1}\n'), { ifVersion: created.version });
    // The emulator's own record of the file, not the adapter's answer.
    const inspect = () => emulator.inspectPath(filesystem, path);
    expect(inspect()?.closed).toBe(false);
    await lake.append(path, open1.length, new Uint8Array(0), {
      ifVersion: open1.version,
      close: true,
    });
    expect(inspect()).toMatchObject({ closed: true, committedLength: open1.length });
  });

  it('abandons a request that outlasts requestTimeoutMs and retries it', async () => {
    const retries: unknown[] = [];
    const lake = await open({ requestTimeoutMs: 300, onRetry: (error) => retries.push(error) });
    await lake.writeDocument('slow.json', bytes('{}'), { ifAbsent: true });
    emulator.faults.add({ operations: ['path.read'], latencyMs: 2_000, times: 1 });
    const started = Date.now();
    const stored = await lake.readDocument('slow.json');
    expect(Buffer.from(stored?.data ?? []).toString()).toBe('{}');
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ code: 'UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(1_900);
  });
});
