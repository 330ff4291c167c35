/**
 * Closes what a chaos run opened, last opened first, each step in its own
 * try/catch: one that fails does not leave the others open. Every failure
 * is rethrown at the end (one as itself, several as an AggregateError), so
 * a teardown problem is never silent.
 */
export class Teardown {
  readonly #steps: Array<{ name: string; close: () => Promise<void> | void }> = [];
  #closing: Promise<void> | undefined;

  /** Registers `close` to run at {@link run}; returns `value` for chaining. */
  add<T>(name: string, value: T, close: (value: T) => Promise<void> | void): T {
    this.#steps.push({ name, close: () => close(value) });
    return value;
  }

  /** Runs every step once, newest first; idempotent. */
  run(): Promise<void> {
    this.#closing ??= (async () => {
      const errors: Error[] = [];
      for (const step of this.#steps.reverse()) {
        try {
          await step.close();
        } catch (error) {
          errors.push(new Error(`closing ${step.name} failed`, { cause: error }));
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, 'several resources failed to close');
    })();
    return this.#closing;
  }
}
