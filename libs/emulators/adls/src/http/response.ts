import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StorageError } from './storage-error.ts';

/** The REST version the emulator answers with when a request names none. */
export const DEFAULT_API_VERSION = '2026-06-06';

/** What a route handler answers: status, headers and an optional body. */
export interface StorageResponse {
  status: number;
  headers: Record<string, string>;
  body?: Buffer | string;
}

let dateSecond = 0;
let dateText = '';

/** The `Date` header; formatting it once per second saves work at thousands of requests a second. */
function currentHttpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/** Adds the headers every answer carries, as the service sends them, to `headers` (which win on a clash). */
function withCommonHeaders(
  req: IncomingMessage,
  headers: Record<string, string>,
): Record<string, string> {
  headers['x-ms-request-id'] ??= randomUUID();
  headers['x-ms-version'] ??= headerValue(req, 'x-ms-version') ?? DEFAULT_API_VERSION;
  headers['Date'] ??= currentHttpDate();
  headers['Server'] ??= 'Tributary-ADLS-Emulator';
  const clientRequestId = headerValue(req, 'x-ms-client-request-id');
  if (clientRequestId !== undefined) headers['x-ms-client-request-id'] ??= clientRequestId;
  return headers;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The service's error answer: `x-ms-error-code` plus a JSON body on DFS
 * operations (`{"error":{"code","message"}}`) or an XML `<Error>` on Blob
 * operations, which is what each of the SDK's generated clients parses.
 */
export function errorResponse(error: StorageError, blob: boolean, method: string): StorageResponse {
  const headers: Record<string, string> = { 'x-ms-error-code': error.code, ...error.headers };
  if (method === 'HEAD' || error.status === 304) return { status: error.status, headers };
  if (blob) {
    headers['Content-Type'] = 'application/xml';
    const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}\nRequestId:${randomUUID()}\nTime:${new Date().toISOString()}</Message></Error>`;
    return { status: error.status, headers, body };
  }
  headers['Content-Type'] = 'application/json;charset=utf-8';
  return {
    status: error.status,
    headers,
    body: JSON.stringify({ error: { code: error.code, message: error.message } }),
  };
}

/** Writes `response` with the common headers. */
export function sendResponse(
  req: IncomingMessage,
  res: ServerResponse,
  response: StorageResponse,
): void {
  const body =
    response.body === undefined
      ? undefined
      : typeof response.body === 'string'
        ? Buffer.from(response.body, 'utf8')
        : response.body;
  // The route's headers object is its own (built per answer), so it is completed in place.
  const headers = withCommonHeaders(req, response.headers);
  headers['Content-Length'] ??= String(body?.length ?? 0);
  res.writeHead(response.status, headers);
  if (body && req.method !== 'HEAD') res.end(body);
  else res.end();
}
