/** One finding in words, under its namespace. */
export interface Example {
  readonly namespace: string;
  readonly message: string;
}

/** Findings of one kind: all counted, the first {@link MAX_EXAMPLES} kept. */
export interface Examples {
  readonly kept: readonly Example[];
  /** How many there were in all. */
  readonly count: number;
  add(namespace: string, message: string): void;
}

/**
 * How many findings of one kind are kept for the report: enough to act on,
 * few enough that a badly broken lake cannot exhaust memory or the terminal.
 */
export const MAX_EXAMPLES = 1000;

export function examples(limit = MAX_EXAMPLES): Examples {
  const kept: Example[] = [];
  let count = 0;
  return {
    kept,
    get count() {
      return count;
    },
    add(namespace, message) {
      count += 1;
      if (kept.length < limit) kept.push({ namespace, message });
    },
  };
}
