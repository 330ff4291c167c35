import { BSON, type Document } from 'bson';

/**
 * BSON.serialize, for documents of any size. It stages into a ~17 MB buffer,
 * and a batch or a staged event can be larger when events carry big pre- and
 * post-images: then the buffer is grown (once) and the call retried.
 */
export function serializeDocument(doc: Document): Uint8Array {
  try {
    return BSON.serialize(doc);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    BSON.setInternalBufferSize(BSON.calculateObjectSize(doc));
    return BSON.serialize(doc);
  }
}
