import type { StorageRequest } from '../http/request.ts';
import { errors } from '../http/storage-error.ts';
import type { LakeStore } from '../store/lake-store.ts';

/** Largest request body the emulator takes (one append); the service's own limit is 4000 MiB. */
export const MAX_BODY_BYTES = 256 * 1024 * 1024;

/** What a route handler gets. */
export interface RouteContext {
  request: StorageRequest;
  store: LakeStore;
  /** `http://host:port/account`, for listing answers (computed on demand). */
  accountUrl: () => string;
}

/** Reads the whole request body (refusing more than {@link MAX_BODY_BYTES} with 413). */
export async function readBody(
  request: StorageRequest,
): Promise<{ chunks: Buffer[]; length: number }> {
  const declared = request.header('content-length');
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES)
    throw errors.requestBodyTooLarge();
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request.raw) {
    const buffer = chunk as Buffer;
    length += buffer.length;
    if (length > MAX_BODY_BYTES) throw errors.requestBodyTooLarge();
    chunks.push(buffer);
  }
  return { chunks, length };
}
