import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Namespace } from '../broker/namespace.ts';
import { formatIsoDuration } from '../config/iso-duration.ts';
import type { FaultInjector, FaultRule } from './fault-injector.ts';

/** URL prefix of the emulator's own HTTP routes (on the AMQP port: see `Listener`). */
export const ADMIN_PREFIX = '/_emulator/';

const MAX_ADMIN_BODY = 64 * 1024;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_ADMIN_BODY) throw new TypeError('request body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError('expected a JSON object');
  return value as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  return value;
}

function queueView(namespace: Namespace, name: string): unknown {
  const queue = namespace.queue(name);
  if (!queue) return undefined;
  const p = queue.properties;
  return {
    name: queue.name,
    properties: {
      LockDuration: formatIsoDuration(p.lockDurationMs),
      MaxDeliveryCount: p.maxDeliveryCount,
      RequiresSession: p.requiresSession,
      DefaultMessageTimeToLive: formatIsoDuration(p.defaultMessageTimeToLiveMs),
      DeadLetteringOnMessageExpiration: p.deadLetteringOnMessageExpiration,
      RequiresDuplicateDetection: p.requiresDuplicateDetection,
      DuplicateDetectionHistoryTimeWindow: formatIsoDuration(
        p.duplicateDetectionHistoryTimeWindowMs,
      ),
      MaxMessageSizeInKilobytes: p.maxMessageSizeBytes / 1024,
    },
    counts: queue.counts(),
  };
}

/**
 * The admin HTTP route, for tests and demos that drive the emulator from
 * another process:
 *
 * - `GET /_emulator/health` — `{"status":"ok"}`
 * - `GET /_emulator/queues`, `GET /_emulator/queues/<name>` — properties and message counts
 * - `GET /_emulator/faults` — the armed rules
 * - `POST /_emulator/faults` with a JSON {@link FaultRule} — `201 {"id":"fault-1"}`
 * - `DELETE /_emulator/faults` (all) or `/_emulator/faults/<id>`
 * - `POST /_emulator/faults/drop-connections` `{"entity"?}` — `{"dropped":n}`
 * - `POST /_emulator/faults/detach-links` `{"entity"?,"condition"?,"description"?}` — `{"detached":n}`
 * - `POST /_emulator/faults/expire-locks` `{"entity"?}` — `{"expired":n}`
 * - `POST /_emulator/faults/expire-message` `{"entity","messageId"}` — `{"expired":true|false}`
 */
export async function handleAdminRequest(
  req: IncomingMessage,
  res: ServerResponse,
  faults: FaultInjector,
  namespace: Namespace,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  if (!url.pathname.startsWith(ADMIN_PREFIX))
    return json(res, 404, {
      error: `not an emulator route: ${url.pathname} (the AMQP port serves only ${ADMIN_PREFIX}*)`,
    });
  const route = url.pathname.slice(ADMIN_PREFIX.length).replace(/\/+$/, '');
  const method = req.method ?? 'GET';
  try {
    if (route === 'health' && method === 'GET') return json(res, 200, { status: 'ok' });
    if (route === 'queues' && method === 'GET')
      return json(
        res,
        200,
        namespace.all().map((q) => queueView(namespace, q.name)),
      );
    if (route.startsWith('queues/') && method === 'GET') {
      const view = queueView(namespace, decodeURIComponent(route.slice('queues/'.length)));
      return view ? json(res, 200, view) : json(res, 404, { error: 'no such queue' });
    }
    if (route === 'faults') {
      if (method === 'GET') return json(res, 200, { rules: faults.list() });
      if (method === 'POST')
        return json(res, 201, { id: faults.add((await readJson(req)) as FaultRule) });
      if (method === 'DELETE') {
        faults.clear();
        return json(res, 204, undefined);
      }
    }
    if (method === 'POST' && route === 'faults/drop-connections') {
      const body = await readJson(req);
      return json(res, 200, { dropped: faults.dropConnections(optionalString(body, 'entity')) });
    }
    if (method === 'POST' && route === 'faults/detach-links') {
      const body = await readJson(req);
      const options: { entity?: string; condition?: string; description?: string } = {};
      for (const name of ['entity', 'condition', 'description'] as const) {
        const value = optionalString(body, name);
        if (value !== undefined) options[name] = value;
      }
      return json(res, 200, { detached: faults.detachLinks(options) });
    }
    if (method === 'POST' && route === 'faults/expire-locks') {
      const body = await readJson(req);
      return json(res, 200, { expired: faults.expireLocks(optionalString(body, 'entity')) });
    }
    if (method === 'POST' && route === 'faults/expire-message') {
      const body = await readJson(req);
      const entity = optionalString(body, 'entity');
      const messageId = optionalString(body, 'messageId');
      if (entity === undefined || messageId === undefined)
        return json(res, 400, { error: 'expire-message needs "entity" and "messageId"' });
      return json(res, 200, { expired: faults.expireMessage(entity, messageId) });
    }
    if (route.startsWith('faults/') && method === 'DELETE') {
      const removed = faults.remove(decodeURIComponent(route.slice('faults/'.length)));
      return removed ? json(res, 204, undefined) : json(res, 404, { error: 'no such fault rule' });
    }
    return json(res, 404, { error: `no admin route ${method} ${url.pathname}` });
  } catch (error) {
    return json(res, 400, { error: error instanceof Error ? error.message : String(error) });
  }
}
