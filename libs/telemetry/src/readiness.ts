/**
 * Why a service cannot do its job right now, one reason per thing that is
 * missing ("lake", "partition 3", …). `/readyz` answers 503 with these
 * reasons while any is set; each part of the service sets and clears its own.
 */
export class Readiness {
  readonly #reasons = new Map<string, string>();

  /**
   * Records that `what` is failing, and why. True when it was not failing
   * before (so the caller logs the news once, not on every retry).
   */
  fail(what: string, reason: string): boolean {
    const fresh = !this.#reasons.has(what);
    this.#reasons.set(what, reason);
    return fresh;
  }

  /** Records that `what` works again. True when it had been failing. */
  recover(what: string): boolean {
    return this.#reasons.delete(what);
  }

  /** True while `what` is failing. */
  failing(what: string): boolean {
    return this.#reasons.has(what);
  }

  /** Every reason, as `what: reason`, sorted. Empty when ready. */
  reasons(): string[] {
    return [...this.#reasons].map(([what, reason]) => `${what}: ${reason}`).sort();
  }
}
