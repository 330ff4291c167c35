import type { Readiness } from './readiness.ts';

/** How {@link watchDependency} judges what a dependency answered. */
export interface DependencyJudge {
  /** True when the failure says the dependency itself is missing (unreachable, refusing credentials, throttling). */
  readonly isOutage: (error: unknown) => boolean;
  /** What an operator should read while it lasts. */
  readonly describe: (error: unknown) => string;
}

/**
 * Wraps a client of one dependency (a lake, a checkpoint store) so that
 * `readiness` follows what it answers: an outage marks `name` failing with
 * its description, and any answer — a result or a failure that is not an
 * outage, such as a conflict — marks it working again. Calls themselves are
 * unchanged; only methods returning promises are watched.
 */
export function watchDependency<T extends object>(
  client: T,
  name: string,
  readiness: Readiness,
  judge: DependencyJudge,
): T {
  const settled = (error?: unknown) => {
    if (error !== undefined && judge.isOutage(error)) readiness.fail(name, judge.describe(error));
    else readiness.recover(name);
  };
  return new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = value.apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.then(
          (answer: unknown) => {
            settled();
            return answer;
          },
          (error: unknown) => {
            settled(error);
            throw error;
          },
        );
      };
    },
  });
}
