import type { Attributes } from '@opentelemetry/api';

/** What the spans and metrics say about one batch. */
export interface BatchFacts {
  readonly partition: number;
  readonly generation: number;
  readonly sequence: number;
  readonly events: number;
  readonly firstKey?: string | undefined;
  readonly lastKey: string;
}

/**
 * Tributary's own span attributes of a batch (`tributary.*`), the same on
 * capture's and the writer's spans so one query finds both ends.
 */
export function batchAttributes(batch: BatchFacts): Attributes {
  return {
    'tributary.partition': batch.partition,
    'tributary.generation': batch.generation,
    'tributary.sequence': batch.sequence,
    'tributary.events': batch.events,
    ...(batch.firstKey === undefined ? {} : { 'tributary.first_key': batch.firstKey }),
    'tributary.last_key': batch.lastKey,
  };
}

/** A change event's `ns` as the database conventions' attributes. */
export function namespaceAttributes(ns: unknown): Attributes {
  const { db, coll } = (ns ?? {}) as { db?: unknown; coll?: unknown };
  return {
    'db.namespace': typeof db === 'string' ? db : '',
    'db.collection.name': typeof coll === 'string' ? coll : '',
  };
}

/** A map key for a change event's namespace (`db.coll`, `''` when unknown). */
export function namespaceKey(ns: unknown): string {
  const { db, coll } = (ns ?? {}) as { db?: unknown; coll?: unknown };
  return typeof db === 'string' ? `${db}.${typeof coll === 'string' ? coll : ''}` : '';
}

/**
 * Bucket boundaries (seconds) of Tributary's latency histograms: the SDK's
 * default ones are for milliseconds.
 */
export const LATENCY_BUCKETS_S = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Bucket boundaries (seconds) of lag histograms: from sub-second to an hour. */
export const LAG_BUCKETS_S = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600];
