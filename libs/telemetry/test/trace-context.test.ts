import {
  SpanStatusCode,
  context,
  isSpanContextValid,
  propagation,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inSpan } from '../src/otel/in-span.ts';
import { traceFieldsOfActiveSpan } from '../src/otel/log-trace-fields.ts';
import { contextOfHeaders, traceHeaders } from '../src/otel/trace-headers.ts';

function clearGlobals(): void {
  trace.disable();
  propagation.disable();
  context.disable();
}

describe('trace context with tracing off', () => {
  beforeAll(clearGlobals);

  it('gives a batch no trace headers', () => {
    const tracer = trace.getTracer('test');
    tracer.startActiveSpan('outside any SDK', (span) => {
      expect(traceHeaders()).toEqual({});
      span.end();
    });
    expect(traceHeaders()).toEqual({});
  });

  it('adds no trace fields to a log line', () => {
    const tracer = trace.getTracer('test');
    tracer.startActiveSpan('outside any SDK', (span) => {
      expect(traceFieldsOfActiveSpan()).toEqual({});
      span.end();
    });
    expect(traceFieldsOfActiveSpan()).toEqual({});
  });

  it('reads headers it cannot understand as no parent', () => {
    const carried = contextOfHeaders({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    expect(trace.getSpanContext(carried)).toBeUndefined();
  });

  it('still runs the work of inSpan and returns its result', async () => {
    await expect(inSpan(trace.getTracer('test'), 'off', {}, async () => 42)).resolves.toBe(42);
  });
});

describe('trace context with an SDK registered', () => {
  const exporter = new InMemorySpanExporter();
  let provider: TracerProvider;

  beforeAll(() => {
    clearGlobals();
    provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const contextManager = new AsyncLocalStorageContextManager();
    contextManager.enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
  });
  beforeEach(() => exporter.reset());
  afterAll(async () => {
    clearGlobals();
    await provider.shutdown();
  });

  const tracer = () => trace.getTracer('trace-context-test');

  it('carries the active span through batch headers to the reading side', () => {
    const sent = tracer().startActiveSpan('send batch', (span) => {
      const headers = traceHeaders();
      span.end();
      return { headers, ids: span.spanContext() };
    });

    expect(sent.headers.traceparent).toBe(`00-${sent.ids.traceId}-${sent.ids.spanId}-01`);
    const received = trace.getSpanContext(contextOfHeaders(sent.headers));
    expect(received).toMatchObject({
      traceId: sent.ids.traceId,
      spanId: sent.ids.spanId,
      isRemote: true,
    });
  });

  it('carries the span of a context it is given, not only the active one', () => {
    const span = tracer().startSpan('detached');
    const headers = traceHeaders(trace.setSpan(context.active(), span));
    span.end();
    expect(traceHeaders()).toEqual({});
    expect(trace.getSpanContext(contextOfHeaders(headers))?.spanId).toBe(span.spanContext().spanId);
  });

  it('makes a span started in the carried context a child of the sender’s span', () => {
    const sender = tracer().startSpan('send batch');
    const headers = traceHeaders(trace.setSpan(context.active(), sender));
    sender.end();

    const child = tracer().startSpan('write batch', {}, contextOfHeaders(headers));
    child.end();
    const [, written] = exporter.getFinishedSpans();
    expect(written?.name).toBe('write batch');
    expect(written?.spanContext().traceId).toBe(sender.spanContext().traceId);
    expect(written?.parentSpanContext?.spanId).toBe(sender.spanContext().spanId);
  });

  it('reads headers without a traceparent as no parent', () => {
    expect(trace.getSpanContext(contextOfHeaders({}))).toBeUndefined();
    expect(trace.getSpanContext(contextOfHeaders({ traceparent: 'garbage' }))).toBeUndefined();
  });

  it('puts the active span’s ids on a log line written inside it, and none outside', () => {
    const inside = tracer().startActiveSpan('work', (span) => {
      const fields = traceFieldsOfActiveSpan();
      span.end();
      return { fields, ids: span.spanContext() };
    });
    expect(isSpanContextValid(inside.ids)).toBe(true);
    expect(inside.fields).toEqual({
      trace_id: inside.ids.traceId,
      span_id: inside.ids.spanId,
      trace_flags: '01',
    });
    expect(traceFieldsOfActiveSpan()).toEqual({});
  });

  it('gives the log fields of the innermost active span', () => {
    const ids = tracer().startActiveSpan('outer', (outer) =>
      tracer().startActiveSpan('inner', (inner) => {
        const fields = traceFieldsOfActiveSpan();
        inner.end();
        outer.end();
        return { fields, inner: inner.spanContext(), outer: outer.spanContext() };
      }),
    );
    expect(ids.fields.span_id).toBe(ids.inner.spanId);
    expect(ids.fields.span_id).not.toBe(ids.outer.spanId);
    expect(ids.fields.trace_id).toBe(ids.outer.traceId);
  });

  it('inSpan returns the work’s result, ends the span and leaves its status unset', async () => {
    await expect(inSpan(tracer(), 'ok work', {}, async () => 'done')).resolves.toBe('done');
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('ok work');
    expect(span?.ended).toBe(true);
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(span?.events).toEqual([]);
  });

  it('inSpan records a failure as an exception and an ERROR status, ends the span and rethrows', async () => {
    const failure = new Error('lake refused the write');
    await expect(
      inSpan(tracer(), 'failing work', {}, async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);

    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('failing work');
    expect(span?.ended).toBe(true);
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'lake refused the write' });
    expect(span?.events.map((e) => e.name)).toEqual(['exception']);
    expect(span?.events[0]?.attributes).toMatchObject({
      'exception.type': 'Error',
      'exception.message': 'lake refused the write',
    });
  });

  it('inSpan records a thrown non-Error by its text', async () => {
    await expect(
      inSpan(tracer(), 'odd failure', {}, async () => {
        throw 'plain text';
      }),
    ).rejects.toBe('plain text');
    const [span] = exporter.getFinishedSpans();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'plain text' });
    expect(span?.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('inSpan makes spans started within the work its children, across awaits', async () => {
    await inSpan(tracer(), 'parent', {}, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      tracer().startSpan('child').end();
    });
    const [child, parent] = exporter.getFinishedSpans();
    expect([child?.name, parent?.name]).toEqual(['child', 'parent']);
    expect(child?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
    expect(child?.spanContext().traceId).toBe(parent?.spanContext().traceId);
  });

  it('inSpan passes its options to the span', async () => {
    await inSpan(
      tracer(),
      'with options',
      { attributes: { 'tributary.partition': 3 } },
      async (span) => {
        span.setAttribute('tributary.events', 10);
      },
    );
    const [span] = exporter.getFinishedSpans();
    expect(span?.attributes).toEqual({ 'tributary.partition': 3, 'tributary.events': 10 });
  });
});
