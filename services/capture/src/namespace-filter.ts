/** A namespace as change events carry it. */
export interface Namespace {
  readonly db: string;
  readonly coll?: string;
}

function toRegExp(pattern: string): RegExp {
  // `shop` means the whole database, like `shop.*`.
  const full = pattern.includes('.') ? pattern : `${pattern}.*`;
  const body = full
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/**
 * Decides which namespaces are captured: in the include list (all when it is
 * empty) and not in the exclude list. Events without a namespace (a
 * deployment-wide invalidate) are always kept: they concern everything.
 */
export function namespaceFilter(include: readonly string[], exclude: readonly string[]) {
  const includes = include.map(toRegExp);
  const excludes = exclude.map(toRegExp);
  return (ns: Namespace | undefined): boolean => {
    if (!ns) return true;
    const name = `${ns.db}.${ns.coll ?? ''}`;
    if (includes.length > 0 && !includes.some((r) => r.test(name))) return false;
    return !excludes.some((r) => r.test(name));
  };
}
