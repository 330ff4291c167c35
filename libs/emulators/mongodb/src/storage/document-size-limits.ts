import { calculateObjectSize, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';

/**
 * The server's document size limits (`BSONObjMaxUserSize` and
 * `BSONObjMaxInternalSize` in its `bsonobj.h`) and the errors it answers
 * when they are exceeded, so writes and change streams fail where a real
 * mongod fails instead of producing replies nothing can encode.
 */

/** Largest document a client may store (hello's `maxBsonObjectSize`): 16 MiB. */
export const MAX_USER_DOCUMENT_BYTES = 16 * 1024 * 1024;

/**
 * Largest document the server itself builds (16 MiB + 16 KiB): room for a
 * command or change event around a maximal user document. A bigger change
 * event is BSONObjectTooLarge (10334).
 */
export const MAX_INTERNAL_DOCUMENT_BYTES = MAX_USER_DOCUMENT_BYTES + 16 * 1024;

/** Size of a stored document as the server would count it. */
export function documentBytes(doc: Document): number {
  // Promoted numbers may count 4 bytes short of an int64/double; irrelevant at 16 MiB.
  return calculateObjectSize(doc);
}

/** insert's per-document write error (`fixDocumentForInsert` answers BadValue). */
export function checkInsertSize(doc: Document): void {
  const size = documentBytes(doc);
  if (size > MAX_USER_DOCUMENT_BYTES) {
    throw new CommandError(
      'BadValue',
      `object to insert too large. size in bytes: ${size}, max size: ${MAX_USER_DOCUMENT_BYTES}`,
    );
  }
}

/** update's check of the document it would store (the update stage's uassert 17419). */
export function checkUpdatedSize(doc: Document): void {
  if (documentBytes(doc) > MAX_USER_DOCUMENT_BYTES) {
    throw new CommandError(
      'Location17419',
      `Resulting document after update is larger than ${MAX_USER_DOCUMENT_BYTES}`,
    );
  }
}

/** An upsert's check of the document it would insert (the upsert stage's uassert 17420). */
export function checkUpsertSize(doc: Document): void {
  if (documentBytes(doc) > MAX_USER_DOCUMENT_BYTES) {
    throw new CommandError(
      'Location17420',
      `Document to upsert is larger than ${MAX_USER_DOCUMENT_BYTES}`,
    );
  }
}

/** BSONObjectTooLarge (10334) in the server's wording, for a document it failed to build. */
export function objectTooLarge(size: number, firstElement: string, context = ''): CommandError {
  const hex = size.toString(16).toUpperCase();
  return new CommandError(
    'BSONObjectTooLarge',
    `${context}BSONObj size: ${size} (0x${hex}) is invalid. Size must be between 0 and ${MAX_INTERNAL_DOCUMENT_BYTES}(16MB) First element: ${firstElement}`,
  );
}
