import type { StorageRequest } from '../http/request.ts';
import { errors } from '../http/storage-error.ts';
import type { CrashPoint } from '../store/journal.ts';
import type { LakeStore } from '../store/lake-store.ts';

/** Largest request body the emulator takes (one append); the service's own limit is 4000 MiB. */
export const MAX_BODY_BYTES = 256 * 1024 * 1024;

/** What a route handler gets. */
export interface RouteContext {
  request: StorageRequest;
  store: LakeStore;
  /** `http://host:port/account`, for listing answers (computed on demand). */
  accountUrl: () => string;
  /** Fault injection: where this request's journal write freezes the emulator, if anywhere. */
  crashPoint: CrashPoint | undefined;
}

/**
 * Reads the whole request body (refusing more than {@link MAX_BODY_BYTES}
 * with 413). Plain `data`/`end` listeners rather than an async iterator: a
 * small append's body usually arrives with its headers, and this is the
 * cheapest way to take it.
 */
export function readBody(request: StorageRequest): Promise<{ chunks: Buffer[]; length: number }> {
  const declared = request.header('content-length');
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES)
    return Promise.reject(errors.requestBodyTooLarge());
  const raw = request.raw;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > MAX_BODY_BYTES) {
        cleanUp();
        reject(errors.requestBodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanUp();
      resolve({ chunks, length });
    };
    const onError = (error: Error): void => {
      cleanUp();
      reject(error);
    };
    // A client that goes away mid-upload ends the request without 'end'.
    const onClose = (): void => {
      if (raw.complete) return;
      cleanUp();
      reject(new Error('the client closed the connection before the body was complete'));
    };
    const cleanUp = (): void => {
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('error', onError);
      raw.off('close', onClose);
    };
    raw.on('data', onData);
    raw.on('end', onEnd);
    raw.on('error', onError);
    raw.on('close', onClose);
  });
}
