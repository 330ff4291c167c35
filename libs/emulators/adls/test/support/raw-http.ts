import http from 'node:http';
import {
  AccountSASPermissions,
  generateAccountSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-file-datalake';

/** A raw HTTP answer. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Sends a request with the path exactly as given (no URL normalisation, so
 * `..` and odd encodings reach the server as written).
 */
export function rawRequest(
  origin: string,
  options: {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
  },
): Promise<RawResponse> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method,
        path: options.path,
        headers: options.headers ?? {},
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** An account SAS query string (all permissions, one hour) so raw requests are authorized. */
export function accountSas(accountName: string, accountKey: string): string {
  return generateAccountSASQueryParameters(
    {
      permissions: AccountSASPermissions.parse('rwdlacup'),
      services: 'b',
      resourceTypes: 'sco',
      expiresOn: new Date(Date.now() + 3600_000),
    },
    new StorageSharedKeyCredential(accountName, accountKey),
  ).toString();
}
