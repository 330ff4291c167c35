import { isSpanContextValid, trace } from '@opentelemetry/api';

/**
 * The active span's ids, for a log line written inside it (`trace_id`,
 * `span_id`, `trace_flags`: the field names of OpenTelemetry's log data
 * model, which log back ends join to traces by). Nothing outside a span or
 * when tracing is off.
 *
 * @see https://opentelemetry.io/docs/specs/otel/compatibility/logging_trace_context/
 */
export function traceFieldsOfActiveSpan(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const ids = span.spanContext();
  if (!isSpanContextValid(ids)) return {};
  return {
    trace_id: ids.traceId,
    span_id: ids.spanId,
    trace_flags: `0${ids.traceFlags.toString(16)}`.slice(-2),
  };
}
