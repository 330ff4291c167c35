import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { SecretRedactor } from '@tributary/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedactingSpanExporter } from '../src/otel/redacting-span-exporter.ts';

const SECRET = 'hunter2-redis-password';

/**
 * Two exporters see every span: `sent` behind the redacting exporter (what
 * would leave the process) and `recorded` directly (what the SDK recorded),
 * the independent record the redacted copy is compared with.
 */
describe('the redacting span exporter', () => {
  let sent: InMemorySpanExporter;
  let recorded: InMemorySpanExporter;
  let provider: TracerProvider;

  beforeEach(() => {
    sent = new InMemorySpanExporter();
    recorded = new InMemorySpanExporter();
    provider = new TracerProvider({
      spanProcessors: [
        new SimpleSpanProcessor({
          exporter: new RedactingSpanExporter(sent, new SecretRedactor([SECRET])),
        }),
        new SimpleSpanProcessor({ exporter: recorded }),
      ],
    });
  });
  afterEach(async () => provider.shutdown());

  /** A span that quotes the secret everywhere a library might put it, inside a parent span. */
  function recordLeakySpans(): void {
    const tracer = provider.getTracer('redaction-test');
    const parent = tracer.startSpan('deliver batch');
    const span = tracer.startSpan(
      'redis connect',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.connection_string': `redis://:${SECRET}@cache:6379`,
          'db.statement': `AUTH ${SECRET}`,
          'db.hosts': ['cache:6379', `with ${SECRET}`],
          'net.peer.port': 6379,
        },
      },
      trace.setSpan(context.active(), parent),
    );
    span.addEvent('retrying');
    span.recordException(new Error(`WRONGPASS ${SECRET} is not the password`));
    span.setStatus({ code: SpanStatusCode.ERROR, message: `AUTH ${SECRET} failed` });
    span.end();
    parent.end();
  }

  function onlySpanNamed(spans: ReadableSpan[], name: string): ReadableSpan {
    const found = spans.filter((s) => s.name === name);
    expect(found).toHaveLength(1);
    return found[0] as ReadableSpan;
  }

  it('keeps the secret out of attributes, exception events and the status message', () => {
    recordLeakySpans();
    const original = onlySpanNamed(recorded.getFinishedSpans(), 'redis connect');
    const redacted = onlySpanNamed(sent.getFinishedSpans(), 'redis connect');

    // The SDK did record the secret: what is checked below is the exporter's doing.
    expect(JSON.stringify([original.attributes, original.events, original.status])).toContain(
      SECRET,
    );

    expect(JSON.stringify(redacted.attributes)).not.toContain(SECRET);
    expect(JSON.stringify(redacted.events)).not.toContain(SECRET);
    expect(redacted.status.message).not.toContain(SECRET);

    expect(redacted.attributes).toEqual({
      'db.connection_string': 'redis://:[REDACTED]@cache:6379',
      'db.statement': 'AUTH [REDACTED]',
      'db.hosts': ['cache:6379', 'with [REDACTED]'],
      'net.peer.port': 6379,
    });
    const exception = redacted.events.find((e) => e.name === 'exception');
    expect(exception?.attributes?.['exception.message']).toBe(
      'WRONGPASS [REDACTED] is not the password',
    );
    expect(exception?.attributes?.['exception.type']).toBe('Error');
    expect(String(exception?.attributes?.['exception.stacktrace'])).toContain(
      'WRONGPASS [REDACTED]',
    );
    expect(redacted.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'AUTH [REDACTED] failed',
    });
  });

  it('passes the name, kind, ids, parent, times, events and scope through unchanged', () => {
    recordLeakySpans();
    const original = onlySpanNamed(recorded.getFinishedSpans(), 'redis connect');
    const redacted = onlySpanNamed(sent.getFinishedSpans(), 'redis connect');
    const parent = onlySpanNamed(recorded.getFinishedSpans(), 'deliver batch');

    expect(redacted.name).toBe('redis connect');
    expect(redacted.kind).toBe(SpanKind.CLIENT);
    expect(redacted.spanContext()).toEqual(original.spanContext());
    expect(redacted.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(redacted.parentSpanContext).toEqual(original.parentSpanContext);
    expect(redacted.startTime).toEqual(original.startTime);
    expect(redacted.endTime).toEqual(original.endTime);
    expect(redacted.duration).toEqual(original.duration);
    expect(redacted.ended).toBe(true);
    expect(redacted.resource).toBe(original.resource);
    expect(redacted.instrumentationScope).toEqual(original.instrumentationScope);
    expect(redacted.events.map((e) => [e.name, e.time])).toEqual(
      original.events.map((e) => [e.name, e.time]),
    );
    expect(redacted.events.find((e) => e.name === 'retrying')).toEqual(
      original.events.find((e) => e.name === 'retrying'),
    );
  });

  it('leaves a span without secrets as it was', () => {
    const span = provider.getTracer('redaction-test').startSpan('write file', {
      attributes: { 'tributary.path': 'db/coll/year=2024/part-0001.jsonl' },
    });
    span.setStatus({ code: SpanStatusCode.OK });
    span.end();
    const [redacted] = sent.getFinishedSpans();
    const [original] = recorded.getFinishedSpans();
    expect(redacted?.attributes).toEqual(original?.attributes);
    expect(redacted?.status).toEqual({ code: SpanStatusCode.OK });
    expect(redacted?.events).toEqual([]);
  });

  it('shuts the wrapped exporter down with it', async () => {
    const inner = new InMemorySpanExporter();
    const exporter = new RedactingSpanExporter(inner, new SecretRedactor([SECRET]));
    await exporter.shutdown();
    const result = await new Promise((resolve) => exporter.export([], resolve));
    expect(result).toMatchObject({ code: ExportResultCode.FAILED });
  });
});
