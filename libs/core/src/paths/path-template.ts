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

/** What fills a template. */
export interface PathValues {
  readonly db: string;
  readonly coll: string;
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
  for (const needed of ['db', 'coll'] as const) {
    if (!template.includes(`{${needed}}`)) {
      return `must contain {${needed}} so namespaces never share files`;
    }
  }
  return undefined;
}

/**
 * Escapes a namespace part so it is one safe path segment: `/`, `\`, `%` and
 * control characters are percent-encoded, and `.`/`..` cannot be formed.
 */
export function encodePathSegment(part: string): string {
  const encoded = part.replace(
    // Control characters are matched on purpose: they must never reach a path.
    // eslint-disable-next-line no-control-regex
    /[%/\\\u0000-\u001f\u007f]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
  return encoded === '.' || encoded === '..' ? encoded.replace(/\./g, '%2E') : encoded;
}

/** Fills a (valid) template for one event. */
export function renderPath(template: string, values: PathValues): string {
  const t = values.eventTime;
  const pad = (n: number) => String(n).padStart(2, '0');
  const fill: Record<PathPlaceholder, string> = {
    db: encodePathSegment(values.db),
    coll: encodePathSegment(values.coll),
    YYYY: String(t.getUTCFullYear()).padStart(4, '0'),
    MM: pad(t.getUTCMonth() + 1),
    DD: pad(t.getUTCDate()),
    HH: pad(t.getUTCHours()),
  };
  return template.replace(/\{([^}]+)\}/g, (_, name: PathPlaceholder) => fill[name]);
}
