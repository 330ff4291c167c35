import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdlsEmulator, type AdlsEmulator } from '../../src/index.ts';
import { accountSas, rawRequest, type RawResponse } from '../support/raw-http.ts';

/** Bad input gets the service's 400-class answers, never a crash, and never touches files outside the data directory. */
describe('bad input', () => {
  let parent: string;
  let dataDir: string;
  let emulator: AdlsEmulator;
  let origin: string;
  let sas: string;
  const internalErrors: unknown[] = [];

  beforeAll(async () => {
    parent = mkdtempSync(path.join(tmpdir(), 'adls-bad-input-'));
    dataDir = path.join(parent, 'data');
    mkdirSync(dataDir);
    emulator = await startAdlsEmulator({
      dataDir,
      onInternalError: (error) => internalErrors.push(error),
    });
    origin = new URL(emulator.url).origin;
    sas = accountSas(emulator.accountName, emulator.accountKey);
    const created = await send('PUT', '/devstoreaccount1/bad?restype=container');
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await emulator.stop();
    rmSync(parent, { recursive: true, force: true });
  });

  function send(
    method: string,
    pathAndQuery: string,
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<RawResponse> {
    const joiner = pathAndQuery.includes('?') ? '&' : '?';
    return rawRequest(origin, {
      method,
      path: `${pathAndQuery}${joiner}${sas}`,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
  }

  function errorCode(response: RawResponse): string | undefined {
    const header = response.headers['x-ms-error-code'];
    return Array.isArray(header) ? header[0] : header;
  }

  function everyFileUnder(dir: string): string[] {
    const result: string[] = [];
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) result.push(...everyFileUnder(full));
      else result.push(path.relative(dataDir, full));
    }
    return result;
  }

  it.each([
    ['dot-dot segments', '/devstoreaccount1/bad/../../escape.txt'],
    ['encoded dot-dot segments', '/devstoreaccount1/bad/%2e%2e/%2E%2E/escape.txt'],
    ['dot-dot behind an encoded slash', '/devstoreaccount1/bad/a%2F..%2F..%2F..%2Fescape.txt'],
    ['backslashes', '/devstoreaccount1/bad/..%5C..%5Cescape.txt'],
    ['a NUL byte', '/devstoreaccount1/bad/esc%00ape.txt'],
    ['a name over 1024 characters', `/devstoreaccount1/bad/${'d/'.repeat(600)}f.txt`],
    ['a segment over 255 characters', `/devstoreaccount1/bad/${'x'.repeat(300)}`],
    ['broken percent-encoding', '/devstoreaccount1/bad/%zz.txt'],
  ])('refuses a path with %s with 400', async (_label, target) => {
    const response = await send('PUT', `${target}?resource=file`);
    expect(response.status).toBe(400);
    expect(errorCode(response)).toMatch(/^(InvalidResourceName|InvalidUri)$/);
    const parsed = JSON.parse(response.body.toString()) as {
      error: { code: string; message: string };
    };
    expect(parsed.error.code).toBe(errorCode(response));
  });

  it('keeps a leading or encoded slash inside the filesystem', async () => {
    const response = await send(
      'PUT',
      '/devstoreaccount1/bad/%2Fabsolute%2Fetc%2Fpasswd?resource=file',
    );
    expect(response.status).toBe(201);
    const props = await send('HEAD', '/devstoreaccount1/bad/absolute/etc/passwd');
    expect(props.status).toBe(200);
  });

  it('serves non-ASCII metadata set through the DFS API on the Blob API without failing', async () => {
    const properties = `city=${Buffer.from('Zürich').toString('base64')}`;
    expect(
      (
        await send('PUT', '/devstoreaccount1/bad/unicode.txt?resource=file', {
          'x-ms-properties': properties,
        })
      ).status,
    ).toBe(201);
    const head = await send('HEAD', '/devstoreaccount1/bad/unicode.txt');
    expect(head.status).toBe(200);
    // The header carries the UTF-8 bytes; the DFS form round-trips exactly.
    expect(Buffer.from(String(head.headers['x-ms-meta-city']), 'latin1').toString('utf8')).toBe(
      'Zürich',
    );
    const dfs = await send('HEAD', '/devstoreaccount1/bad/unicode.txt?action=getStatus');
    expect(dfs.headers['x-ms-properties']).toBe(properties);
  });

  it('refuses a filesystem name with dot-dot or a slash with 400', async () => {
    expect((await send('PUT', '/devstoreaccount1/..?restype=container')).status).toBe(400);
    expect((await send('PUT', '/devstoreaccount1/a%2Fb?restype=container')).status).toBe(400);
  });

  it('answers malformed query parameters and headers with 400 and the service code', async () => {
    expect((await send('PUT', '/devstoreaccount1/bad/f.txt?resource=file')).status).toBe(201);
    const cases: Array<[RawResponse, string]> = [
      [
        await send('PATCH', '/devstoreaccount1/bad/f.txt?action=append&position=abc', {}, 'x'),
        'InvalidQueryParameterValue',
      ],
      [
        await send('PATCH', '/devstoreaccount1/bad/f.txt?action=append&position=-1', {}, 'x'),
        'InvalidQueryParameterValue',
      ],
      [
        await send('PATCH', '/devstoreaccount1/bad/f.txt?action=append', {}, 'x'),
        'MissingRequiredQueryParameter',
      ],
      [
        await send('PATCH', '/devstoreaccount1/bad/f.txt?action=flush&position=0', {}, 'body'),
        'ContentLengthMustBeZero',
      ],
      [
        await send('PATCH', '/devstoreaccount1/bad/f.txt?action=flush&position=0&close=maybe'),
        'InvalidQueryParameterValue',
      ],
      [
        await send('PUT', '/devstoreaccount1/bad/f.txt?resource=folder'),
        'InvalidQueryParameterValue',
      ],
      [
        await send('PUT', '/devstoreaccount1/bad/g.txt?resource=file', {
          'x-ms-properties': 'a=%%%',
        }),
        'InvalidHeaderValue',
      ],
      [
        await send('PUT', '/devstoreaccount1/bad/g.txt?resource=file', {
          'x-ms-properties': '=abc',
        }),
        'InvalidPropertyName',
      ],
      [
        await send('PUT', '/devstoreaccount1/bad/f.txt?comp=lease', {
          'x-ms-lease-action': 'acquire',
          'x-ms-lease-duration': 'abc',
        }),
        'InvalidHeaderValue',
      ],
      [
        await send('PUT', '/devstoreaccount1/bad/f.txt?comp=lease', {
          'x-ms-lease-action': 'steal',
          'x-ms-lease-duration': '15',
        }),
        'InvalidHeaderValue',
      ],
      [
        await send('PUT', '/devstoreaccount1/bad/f.txt?comp=lease', {
          'x-ms-lease-action': 'acquire',
          'x-ms-lease-duration': '15',
          'x-ms-proposed-lease-id': 'not-a-guid',
        }),
        'InvalidHeaderValue',
      ],
      [await send('PUT', '/devstoreaccount1/bad/f.txt?comp=lease', {}), 'MissingRequiredHeader'],
      [
        await send('GET', '/devstoreaccount1/bad?resource=filesystem&recursive=true&maxResults=0'),
        'InvalidQueryParameterValue',
      ],
      [
        await send('GET', '/devstoreaccount1/bad?resource=filesystem'),
        'MissingRequiredQueryParameter',
      ],
      [
        await send(
          'PATCH',
          '/devstoreaccount1/bad/f.txt?action=append&position=0',
          { 'x-ms-structured-body': 'XSM/1.0; properties=crc64' },
          'x',
        ),
        'UnsupportedHeader',
      ],
    ];
    for (const [response, code] of cases) {
      expect(response.status).toBe(400);
      expect(errorCode(response)).toBe(code);
    }
  });

  it('answers unsupported operations with 400-class errors', async () => {
    const acl = await send('PATCH', '/devstoreaccount1/bad/f.txt?action=setAccessControl', {
      'x-ms-acl': 'user::rwx',
    });
    expect(errorCode(acl)).toBe('UnsupportedQueryParameter');
    expect(acl.status).toBe(400);
    const putBlob = await send(
      'PUT',
      '/devstoreaccount1/bad/blob.txt',
      { 'x-ms-blob-type': 'BlockBlob' },
      'data',
    );
    expect(putBlob.status).toBe(400);
    expect(errorCode(putBlob)).toBe('UnsupportedHeader');
    const options = await send('OPTIONS', '/devstoreaccount1/bad/f.txt');
    expect(options.status).toBe(405);
    expect(errorCode(options)).toBe('UnsupportedHttpVerb');
    const account = await send('GET', '/devstoreaccount1');
    expect(account.status).toBe(400);
    const containerAcl = await send('GET', '/devstoreaccount1/bad?restype=container&comp=acl');
    expect(containerAcl.status).toBe(400);
    expect(containerAcl.headers['content-type']).toBe('application/xml');
    expect(containerAcl.body.toString()).toContain('<Code>UnsupportedQueryParameter</Code>');
  });

  it('refuses a malformed Authorization header or a stale date with 403, and none with 401', async () => {
    const garbage = await rawRequest(origin, {
      method: 'HEAD',
      path: '/devstoreaccount1/bad?restype=container',
      headers: { Authorization: 'SharedKey nonsense' },
    });
    expect(garbage.status).toBe(403);
    const stale = await rawRequest(origin, {
      method: 'HEAD',
      path: '/devstoreaccount1/bad?restype=container',
      headers: {
        Authorization: 'SharedKey devstoreaccount1:AAAA',
        'x-ms-date': new Date(Date.now() - 3600_000).toUTCString(),
      },
    });
    expect(stale.status).toBe(403);
    expect(errorCode(stale)).toBe('AuthenticationFailed');
    const none = await rawRequest(origin, {
      method: 'GET',
      path: '/devstoreaccount1/bad?restype=container',
    });
    expect(none.status).toBe(401);
  });

  it('refuses a body declared over the limit with 413 RequestBodyTooLarge before reading it', async () => {
    expect((await send('PUT', '/devstoreaccount1/bad/big.bin?resource=file')).status).toBe(201);
    // Only the headers go out: the answer must come without the server waiting for 300 MiB.
    const response = await send('PATCH', '/devstoreaccount1/bad/big.bin?action=append&position=0', {
      'Content-Length': String(300 * 1024 * 1024),
    });
    expect(response.status).toBe(413);
    expect(errorCode(response)).toBe('RequestBodyTooLarge');
    expect((JSON.parse(response.body.toString()) as { error: { code: string } }).error.code).toBe(
      'RequestBodyTooLarge',
    );
    expect(emulator.inspectPath('bad', 'big.bin')?.stagedBytes).toBe(0);
  });

  it.each([
    ['a relative name', '/devstoreaccount1/bad/../../../outside.txt'],
    ['a relative name below a directory', '/devstoreaccount1/bad/x/../../../../outside.txt'],
  ])(
    'refuses %s that would leave the filesystem with 400 InvalidResourceName',
    async (_label, target) => {
      const response = await send('PUT', `${target}?resource=file`);
      expect(response.status).toBe(400);
      expect(errorCode(response)).toBe('InvalidResourceName');
      expect(emulator.inspectPath('bad', 'outside.txt')).toBeUndefined();
      expect(emulator.inspectPath('bad', 'x')).toBeUndefined();
    },
  );

  it('wrote nothing outside the data directory and only id-named files inside it, and never crashed', async () => {
    expect(readdirSync(parent)).toEqual(['data']);
    for (const file of everyFileUnder(dataDir)) {
      expect(file).toMatch(
        /^(state\/(snapshot\.json|journal-\d+\.log)|blobs\/[0-9a-f]{2}\/[0-9a-f]{32})$/,
      );
    }
    expect(internalErrors).toEqual([]);
    const health = await rawRequest(origin, { method: 'GET', path: '/_emulator/health' });
    expect(health.status).toBe(200);
  });
});
