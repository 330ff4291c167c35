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

/** Events per namespace: the namespace's attributes and how many. */
export type NamespaceCounts = ReadonlyMap<
  string,
  { readonly ns: Attributes; readonly events: number }
>;

/** Counts `items` per namespace (`nsOf` gives an item's change-event `ns`; unknown ones count under `''`). */
export function countByNamespace<T>(
  items: Iterable<T>,
  nsOf: (item: T) => unknown,
): NamespaceCounts {
  const counts = new Map<string, { ns: Attributes; events: number }>();
  for (const item of items) {
    const ns = nsOf(item);
    const key = namespaceKey(ns);
    const count = counts.get(key);
    if (count) count.events += 1;
    else counts.set(key, { ns: namespaceAttributes(ns), events: 1 });
  }
  return counts;
}
