import type { Attributes, Meter } from '@opentelemetry/api';

/**
 * A monotonic count per label set, reported as an OpenTelemetry observable
 * counter. Counting is a map lookup and an addition — cheap enough for every
 * change event — and the attributes object is built once per label set,
 * not per call, as a synchronous counter's `add` would need.
 */
export class Tally {
  readonly #counts = new Map<string, { readonly attributes: Attributes; value: number }>();

  constructor(meter: Meter, name: string, options: { description: string; unit: string }) {
    meter.createObservableCounter(name, options).addCallback((result) => {
      for (const { attributes, value } of this.#counts.values()) result.observe(value, attributes);
    });
  }

  /**
   * Adds `count` under the label set `key` names; `attributes` builds that
   * set the first time the key is seen.
   */
  add(key: string, attributes: () => Attributes, count = 1): void {
    const entry = this.#counts.get(key);
    if (entry) entry.value += count;
    else this.#counts.set(key, { attributes: attributes(), value: count });
  }
}
