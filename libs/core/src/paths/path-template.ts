import { encodePathSegment } from './path-segment.ts';

/**
 * Event-time path templates: `{db}/{coll}/year={YYYY}/month={MM}/day={DD}/hour={HH}`.
 * Placeholders are filled from the event's namespace and its clusterTime in
 * UTC, never from the time of writing, so late events land where they belong.
 */

/** The placeholders a template may use. */
export const PATH_PLACEHOLDERS = ['db', 'coll', 'YYYY', 'MM', 'DD', 'HH'] as const;
export type PathPlaceholder = (typeof PATH_PLACEHOLDERS)[number];

/** The default layout, partitioned by UTC hour. */
export const DEFAULT_PATH_TEMPLATE = '{db}/{coll}/year={YYYY}/month={MM}/day={DD}/hour={HH}';

/**
 * The segments that stand in for a missing part of a namespace: events of a
 * whole database (dropDatabase) have no collection, a deployment-wide
 * invalidate has neither. A raw `~` never comes out of a real name (see
 * {@link encodePathSegment}), so these cannot meet a real database or
 * collection.
 */
export const NO_COLLECTION_SEGMENT = '~database';
export const NO_DATABASE_SEGMENT = '~cluster';

/** What fills a template. */
export interface PathValues {
  /** The database; absent for events of the whole deployment. */
  readonly db?: string;
  /** The collection; absent for events of a whole database or deployment. */
  readonly coll?: string;
  /** Event time. Only its UTC fields are used. */
  readonly eventTime: Date;
}

/** Why a template cannot be used, or `undefined` when it is fine. */
export function pathTemplateProblem(template: string): string | undefined {
  if (template.startsWith('/') || template.endsWith('/')) {
    return 'must not start or end with "/"';
  }
  const segments = template.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    return 'must not contain empty, "." or ".." segments';
  }
  const known = new Set<string>(PATH_PLACEHOLDERS);
  for (const match of template.matchAll(/\{([^}]*)\}/g)) {
    if (!known.has(match[1] ?? '')) {
      return `has unknown placeholder {${match[1]}}; known: ${PATH_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`;
    }
  }
  if (/[{}]/.test(template.replace(/\{[^{}]*\}/g, ''))) return 'has an unbalanced "{" or "}"';
  if (segments[0] === '_tributary')
    return 'must not start with "_tributary", where Tributary keeps its state';
  for (const needed of ['db', 'coll'] as const) {
    if (!template.includes(`{${needed}}`)) {
      return `must contain {${needed}} so namespaces never share files`;
    }
    // Alone in its segment, a name's escaping keeps every namespace apart
    // and every segment within its length; `{db}_{coll}` would let
    // `a_b`+`c` and `a`+`b_c` share a directory.
    if (!segments.includes(`{${needed}}`)) {
      return `must have {${needed}} as a whole path segment (like {db}/{coll}/…) so namespaces never share a directory`;
    }
  }
  return undefined;
}

/** Fills a (valid) template for one event. */
export function renderPath(template: string, values: PathValues): string {
  const t = values.eventTime;
  const pad = (n: number) => String(n).padStart(2, '0');
  const fill: Record<PathPlaceholder, string> = {
    db: values.db === undefined ? NO_DATABASE_SEGMENT : encodePathSegment(values.db),
    coll: values.coll === undefined ? NO_COLLECTION_SEGMENT : encodePathSegment(values.coll),
    YYYY: String(t.getUTCFullYear()).padStart(4, '0'),
    MM: pad(t.getUTCMonth() + 1),
    DD: pad(t.getUTCDate()),
    HH: pad(t.getUTCHours()),
  };
  return template.replace(/\{([^}]+)\}/g, (_, name: PathPlaceholder) => fill[name]);
}
