import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultInjector } from './fault-injector.ts';

/** URL prefix of the emulator's own control routes (no account name can start with `_`). */
export const ADMIN_PREFIX = '/_emulator/';

/** Largest admin request body accepted. */
const MAX_ADMIN_BODY = 64 * 1024;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_ADMIN_BODY) throw new TypeError('request body too large');
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/**
 * The admin HTTP route, for tests and demos that drive the emulator from
 * another process:
 *
 * - `GET /_emulator/health` — `{"status":"ok"}`
 * - `GET /_emulator/faults` — `{"requestCount":N,"rules":[...]}`
 * - `POST /_emulator/faults` with a JSON {@link FaultRule} — `201 {"id":"fault-1"}`
 * - `DELETE /_emulator/faults` — remove all rules; `DELETE /_emulator/faults/<id>` — one rule
 * - `POST /_emulator/faults/seed` with `{"seed":N}` — repeatable random faults
 */
export async function handleAdminRequest(
  req: IncomingMessage,
  res: ServerResponse,
  faults: FaultInjector,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const route = url.pathname.slice(ADMIN_PREFIX.length).replace(/\/+$/, '');
  try {
    if (route === 'health' && req.method === 'GET') return json(res, 200, { status: 'ok' });
    if (route === 'faults') {
      if (req.method === 'GET')
        return json(res, 200, { requestCount: faults.requestCount, rules: faults.list() });
      if (req.method === 'POST')
        return json(res, 201, { id: faults.add((await readJson(req)) as never) });
      if (req.method === 'DELETE') {
        faults.clear();
        return json(res, 204, undefined);
      }
    }
    if (route === 'faults/seed' && req.method === 'POST') {
      const body = (await readJson(req)) as { seed?: unknown };
      if (typeof body.seed !== 'number') throw new TypeError('seed must be a number');
      faults.seed(body.seed);
      return json(res, 204, undefined);
    }
    if (route.startsWith('faults/') && req.method === 'DELETE') {
      const removed = faults.remove(decodeURIComponent(route.slice('faults/'.length)));
      return json(res, removed ? 204 : 404, removed ? undefined : { error: 'no such fault rule' });
    }
    return json(res, 404, { error: `no admin route ${req.method ?? ''} ${url.pathname}` });
  } catch (error) {
    return json(res, 400, { error: error instanceof Error ? error.message : String(error) });
  }
}
