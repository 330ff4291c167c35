import { type Span, type SpanOptions, SpanStatusCode, type Tracer } from '@opentelemetry/api';

/**
 * Runs `work` inside a new active span named `name`: spans started within
 * (a library's, or Tributary's own) become its children. A failure is
 * recorded on the span (exception event, status ERROR) and rethrown. With
 * tracing off the span is the API's non-recording one, and this costs a
 * closure and a context switch.
 */
export function inSpan<T>(
  tracer: Tracer,
  name: string,
  options: SpanOptions,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, options, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
      throw error;
    } finally {
      span.end();
    }
  });
}
