import { createHash } from 'node:crypto';
import { EJSON } from 'bson';

/** What routes an event to a partition. */
export type PartitionKeyMode = 'namespace' | 'namespace+documentKey';

/** The fields of a change event that routing reads. */
export interface RoutableEvent {
  readonly ns?: { readonly db: string; readonly coll?: string };
  readonly documentKey?: unknown;
}

/**
 * The partition (0 … count-1) of an event. By namespace every event of a
 * collection shares a partition, so a collection's lines stay in order; by
 * namespace + documentKey a hot collection spreads over partitions and order
 * holds per document. Events without a documentKey (drop, rename,
 * dropDatabase, invalidate) route by namespace in both modes.
 *
 * The hash is SHA-256, so the mapping is the same in every process and
 * release: capture and writers must agree on it.
 */
export function partitionOf(event: RoutableEvent, count: number, mode: PartitionKeyMode): number {
  let routingKey = event.ns ? `${event.ns.db}.${event.ns.coll ?? ''}` : '';
  if (mode === 'namespace+documentKey' && event.documentKey !== undefined) {
    routingKey += `\u0000${EJSON.stringify(event.documentKey, { relaxed: false })}`;
  }
  const digest = createHash('sha256').update(routingKey).digest();
  return digest.readUInt32BE(0) % count;
}
