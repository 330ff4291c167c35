import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { SecretRedactor } from '@tributary/core';

/**
 * Passes spans on to `exporter` with every configured secret removed from
 * their attributes, event attributes and status message. Tributary's own
 * spans hold no secrets, but an exception a library records (a connection
 * failure quoting its URL) might, and secrets never leave the process.
 */
export class RedactingSpanExporter implements SpanExporter {
  readonly #exporter: SpanExporter;
  readonly #redactor: SecretRedactor;

  constructor(exporter: SpanExporter, redactor: SecretRedactor) {
    this.#exporter = exporter;
    this.#redactor = redactor;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.#exporter.export(
      spans.map((span) => this.#redacted(span)),
      done,
    );
  }

  shutdown(): Promise<void> {
    return this.#exporter.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#exporter.forceFlush?.() ?? Promise.resolve();
  }

  #redacted(span: ReadableSpan): ReadableSpan {
    const r = this.#redactor;
    const replaced: Partial<ReadableSpan> = {
      attributes: r.redactValue(span.attributes) as ReadableSpan['attributes'],
      events: span.events.map((event) => ({
        ...event,
        ...(event.attributes
          ? { attributes: r.redactValue(event.attributes) as typeof event.attributes }
          : {}),
      })),
      status: {
        ...span.status,
        ...(span.status.message === undefined
          ? {}
          : { message: r.redactText(span.status.message) }),
      },
    };
    // The span's other members (its context, times, resource) are read through.
    return new Proxy(span, {
      get(target, property) {
        if (property in replaced) return replaced[property as keyof ReadableSpan];
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }
}
