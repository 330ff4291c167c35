import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { authorize, type AccountCredentials } from '../auth/authorize.ts';
import { ADMIN_PREFIX, handleAdminRequest } from '../faults/admin-route.ts';
import type { FaultDecision, FaultInjector } from '../faults/fault-injector.ts';
import {
  createFilesystem,
  deleteFilesystem,
  getFilesystemProperties,
  listFilesystems,
  setFilesystemMetadata,
} from '../routes/filesystem-routes.ts';
import { getPathProperties, listPaths, readPath } from '../routes/path-read-routes.ts';
import {
  createPath,
  deletePath,
  leasePath,
  renamePath,
  setPathProperties,
} from '../routes/path-routes.ts';
import { appendPath, flushPath } from '../routes/path-write-routes.ts';
import type { RouteContext } from '../routes/route-context.ts';
import type { LakeStore } from '../store/lake-store.ts';
import { parseRequest, type OperationName, type StorageRequest } from './request.ts';
import { errorResponse, sendResponse, type StorageResponse } from './response.ts';
import { StorageError, errors, isStorageError } from './storage-error.ts';

type Handler = (ctx: RouteContext) => StorageResponse | Promise<StorageResponse>;

const HANDLERS: Record<OperationName, Handler> = {
  'account.listFilesystems': listFilesystems,
  'filesystem.create': createFilesystem,
  'filesystem.delete': deleteFilesystem,
  'filesystem.getProperties': getFilesystemProperties,
  'filesystem.setMetadata': setFilesystemMetadata,
  'filesystem.listPaths': listPaths,
  'path.create': createPath,
  'path.rename': renamePath,
  'path.append': appendPath,
  'path.flush': flushPath,
  'path.setProperties': setPathProperties,
  'path.lease': leasePath,
  'path.read': readPath,
  'path.getProperties': getPathProperties,
  'path.delete': deletePath,
  unsupported: (ctx) => {
    const { request } = ctx;
    if (!['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'].includes(request.method)) {
      throw errors.unsupportedHttpVerb();
    }
    const what = `${request.method} with query '${request.rawQuery.replace(/(^|&)sig=[^&]*/, '$1sig=…')}'`;
    // Answer with the service's own codes for "this header / parameter is not supported here".
    if (request.header('x-ms-blob-type') !== undefined) {
      throw new StorageError(
        400,
        'UnsupportedHeader',
        `The emulator does not implement the Blob upload API (${what}).`,
      );
    }
    throw new StorageError(
      400,
      'UnsupportedQueryParameter',
      `The emulator does not implement this operation (${what}).`,
    );
  },
};

/** What the HTTP front end needs. */
export interface ServerDependencies {
  store: LakeStore;
  faults: FaultInjector;
  account: AccountCredentials;
  /** Called with unexpected (non-storage) errors; they are answered with 500 InternalError. */
  onInternalError: (error: unknown) => void;
}

/**
 * The HTTP front end: parses each request, applies fault rules, authorizes,
 * runs the operation and answers in the service's format. Any unexpected
 * error becomes 500 InternalError, never a crash.
 */
export function createStorageServer(deps: ServerDependencies): http.Server {
  const server = http.createServer((req, res) => {
    handle(req, res, server, deps).catch((error: unknown) => {
      if (clientWentAway(req)) return;
      deps.onInternalError(error);
      if (!res.headersSent)
        sendResponse(req, res, errorResponse(errors.internalError(), false, req.method ?? 'GET'));
      else res.destroy();
    });
  });
  // Appends of hundreds of megabytes over a slow link must not be cut off.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 30_000;
  return server;
}

/** Reads and drops the rest of the request body; false when the client went away meanwhile. */
async function bodyDiscarded(req: IncomingMessage): Promise<boolean> {
  if (req.complete) return true;
  try {
    await finished(req.resume());
    return true;
  } catch (_error) {
    // The client closed the connection while uploading; there is no one to answer.
    return false;
  }
}

/**
 * True when the client dropped the connection mid-request (an aborted
 * upload): the resulting read error is the client's doing, not an emulator
 * fault, and there is no one left to answer.
 */
function clientWentAway(req: IncomingMessage): boolean {
  return req.destroyed && !req.complete;
}

function accountUrl(req: IncomingMessage, server: http.Server, accountName: string): string {
  const address = server.address();
  const host =
    req.headers.host ??
    (typeof address === 'object' && address ? `${address.address}:${address.port}` : 'localhost');
  return `http://${host}/${accountName}`;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  server: http.Server,
  deps: ServerDependencies,
): Promise<void> {
  if ((req.url ?? '').startsWith(ADMIN_PREFIX)) {
    await handleAdminRequest(req, res, deps.faults);
    return;
  }
  let request: StorageRequest;
  try {
    request = parseRequest(req, deps.account.name);
  } catch (error) {
    if (!isStorageError(error)) throw error;
    sendResponse(req, res, errorResponse(error, false, req.method ?? 'GET'));
    return;
  }
  const decision = deps.faults.decide(request.operation, request.rawPath);
  if (decision.latencyMs > 0) await sleep(decision.latencyMs);
  if (decision.hold?.phase === 'before' && (await decision.hold.released) === 'drop')
    return dropConnection(req);
  const failure = decision.failure;
  if (failure !== undefined && failure.kind !== 'crash' && failure.phase === 'before') {
    await injectFailure(req, res, request, failure);
    return;
  }
  let response: StorageResponse;
  try {
    authorize(request, deps.account);
    const answer = HANDLERS[request.operation]({
      request,
      store: deps.store,
      accountUrl: () => accountUrl(req, server, deps.account.name),
      crashPoint: failure?.kind === 'crash' ? failure.point : undefined,
    });
    // Most operations answer synchronously; awaiting only promises saves a turn of the microtask queue.
    response = answer instanceof Promise ? await answer : answer;
  } catch (error) {
    if (!isStorageError(error)) throw error;
    response = errorResponse(error, request.blob, request.method);
  }
  // Durability before acknowledgement: no answer (a read's included, which
  // may show a change) leaves before the journal holds every change so far.
  // Waiting here is what lets one journal write carry many requests.
  if (deps.store.hasUnpersistedChanges) await deps.store.persisted();
  if (decision.hold?.phase === 'after' && (await decision.hold.released) === 'drop')
    return dropConnection(req);
  if (failure !== undefined && failure.kind !== 'crash' && failure.phase === 'after') {
    await injectFailure(req, res, request, failure);
    return;
  }
  sendResponse(req, res, response);
}

/** An abandoned held request: never answered, its connection reset (it may already be gone). */
function dropConnection(req: IncomingMessage): void {
  if (!req.socket.destroyed) req.socket.resetAndDestroy();
}

async function injectFailure(
  req: IncomingMessage,
  res: ServerResponse,
  request: StorageRequest,
  failure: Exclude<FaultDecision['failure'], { kind: 'crash' } | undefined>,
): Promise<void> {
  if (failure.kind === 'reset') {
    // An RST, not a polite close: the client sees ECONNRESET mid-request.
    req.socket.resetAndDestroy();
    return;
  }
  const error =
    failure.status === 503
      ? errors.serverBusy()
      : failure.status === 409
        ? errors.injectedConflict(failure.errorCode ?? 'Conflict')
        : failure.status === 400
          ? errors.injectedRefusal(failure.errorCode ?? 'InvalidInput')
          : errors.internalError();
  // Take the whole body first, as the service does before it answers, so a
  // client still uploading sees the 500/503 rather than a broken pipe.
  if (!(await bodyDiscarded(req))) return;
  sendResponse(req, res, errorResponse(error, request.blob, request.method));
}
