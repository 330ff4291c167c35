import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdlsEmulator, type AdlsEmulator } from '../../src/index.ts';
import { accountSas, rawRequest, type RawResponse } from '../support/raw-http.ts';

/**
 * The DFS Path - Lease route (`POST` with `x-ms-lease-action`), which the
 * JavaScript SDK never calls (its lease client uses the Blob `comp=lease`
 * API), so it is exercised over raw HTTP.
 */
describe('DFS lease route', () => {
  let emulator: AdlsEmulator;
  let origin: string;
  let sas: string;
  beforeAll(async () => {
    emulator = await startAdlsEmulator();
    origin = new URL(emulator.url).origin;
    sas = accountSas(emulator.accountName, emulator.accountKey);
    expect((await send('PUT', '/devstoreaccount1/dfslease?restype=container')).status).toBe(201);
  });
  afterAll(async () => {
    await emulator.stop();
  });

  function send(
    method: string,
    pathAndQuery: string,
    headers: Record<string, string> = {},
  ): Promise<RawResponse> {
    const joiner = pathAndQuery.includes('?') ? '&' : '?';
    return rawRequest(origin, { method, path: `${pathAndQuery}${joiner}${sas}`, headers });
  }

  function errorCode(response: RawResponse): string | undefined {
    const header = response.headers['x-ms-error-code'];
    return Array.isArray(header) ? header[0] : header;
  }

  async function brokenLeaseOn(name: string): Promise<string> {
    const file = `/devstoreaccount1/dfslease/${name}`;
    expect((await send('PUT', `${file}?resource=file`)).status).toBe(201);
    const acquired = await send('POST', file, {
      'x-ms-lease-action': 'acquire',
      'x-ms-lease-duration': '-1',
      'x-ms-proposed-lease-id': randomUUID(),
    });
    expect(acquired.status).toBe(201);
    const broken = await send('POST', file, {
      'x-ms-lease-action': 'break',
      'x-ms-lease-break-period': '0',
    });
    expect(broken.status).toBe(202);
    expect(broken.headers['x-ms-lease-time']).toBe('0');
    return file;
  }

  it('answers a break of an already broken lease with 409 LeaseIsAlreadyBroken', async () => {
    const file = await brokenLeaseOn('twice.txt');
    const again = await send('POST', file, { 'x-ms-lease-action': 'break' });
    expect(again.status).toBe(409);
    expect(errorCode(again)).toBe('LeaseIsAlreadyBroken');
    expect((JSON.parse(again.body.toString()) as { error: { code: string } }).error.code).toBe(
      'LeaseIsAlreadyBroken',
    );
    const state = await send('HEAD', file);
    expect(state.headers['x-ms-lease-state']).toBe('broken');
  });

  it('breaks the same broken lease again on the Blob lease API (202), as Lease Blob does', async () => {
    const file = await brokenLeaseOn('blob-route.txt');
    const again = await send('PUT', `${file}?comp=lease`, { 'x-ms-lease-action': 'break' });
    expect(again.status).toBe(202);
    expect(again.headers['x-ms-lease-time']).toBe('0');
  });
});
