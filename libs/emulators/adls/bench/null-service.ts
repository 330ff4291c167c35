import http from 'node:http';
import { DEV_ACCOUNT_KEY, DEV_ACCOUNT_NAME } from '../src/index.ts';

/**
 * A stand-in for the emulator that answers every request the benchmark sends
 * with the status and headers the service would (201 for creates, 202 for
 * appends, 200 with an ETag for flushes) and does nothing else: no
 * authorization, no storage. Driving it shows what the SDK clients alone can
 * push on this machine — the ceiling of any end-to-end figure.
 */
export async function startNullService(): Promise<{
  connectionString: string;
  stop: () => Promise<void>;
}> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '';
      const status =
        req.method === 'PUT'
          ? 201
          : url.includes('action=flush')
            ? 200
            : req.method === 'DELETE'
              ? 200
              : 202;
      res.writeHead(status, {
        'x-ms-request-id': crypto.randomUUID(),
        'x-ms-version': '2026-06-06',
        Date: new Date().toUTCString(),
        ETag: '"0x8DE0000000000001"',
        'Last-Modified': new Date().toUTCString(),
        'Content-Length': '0',
      });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}/${DEV_ACCOUNT_NAME}`;
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT_NAME};AccountKey=${DEV_ACCOUNT_KEY};BlobEndpoint=${url};DfsEndpoint=${url};`,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
