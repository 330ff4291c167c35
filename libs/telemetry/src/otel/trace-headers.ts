import { type Context, context, propagation } from '@opentelemetry/api';

/**
 * The W3C trace context (`traceparent`, `tracestate`, and baggage if any)
 * of `from`, as headers a batch carries through the queue. Empty when
 * tracing is off: the API's propagator is a no-op until an SDK registers one.
 *
 * @see https://www.w3.org/TR/trace-context/
 */
export function traceHeaders(from: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(from, headers);
  return headers;
}

/** The context a batch's headers carry (the root context when they carry none). */
export function contextOfHeaders(headers: Readonly<Record<string, string>>): Context {
  return propagation.extract(context.active(), headers);
}
