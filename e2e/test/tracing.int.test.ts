import { afterEach, expect, it } from 'vitest';
import { OTLP_KIND, OtlpReceiver, type ReceivedSpan } from '../src/otlp-receiver.ts';
import { Pipeline, linesByToken } from '../src/pipeline.ts';
import { describeOnTransports } from '../src/transports.ts';

/** The spans of one batch's trace, by role. */
interface BatchTrace {
  readonly batch: ReceivedSpan;
  readonly spans: readonly ReceivedSpan[];
  one(name: string | RegExp, service?: string): ReceivedSpan;
  childrenOf(span: ReceivedSpan): ReceivedSpan[];
}

describeOnTransports('tracing', (transport) => {
  let pipeline: Pipeline | undefined;
  let receiver: OtlpReceiver | undefined;
  afterEach(async () => {
    await pipeline?.close();
    await receiver?.close();
    pipeline = undefined;
    receiver = undefined;
  });

  it('follows a batch in one trace from the change stream read to its acknowledgement', async () => {
    receiver = await OtlpReceiver.start();
    pipeline = await Pipeline.start({
      transport,
      lake: 'adls',
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '200',
        OTEL_METRIC_EXPORT_INTERVAL: '500',
        TRIBUTARY_LOG_LEVEL: 'debug',
        // Files close soon after their last append: the closing flush happens between batches.
        TRIBUTARY_IDLE_CLOSE_MS: '1000',
      },
    });
    await pipeline.startCapture();
    const writer = pipeline.startWriter('w1');
    await pipeline.client
      .db('shop')
      .collection('orders')
      .insertMany([{ item: 'a' }, { item: 'b' }, { item: 'c' }]);
    const { comparison } = await pipeline.waitUntilComplete();
    expect(comparison.missing).toEqual([]);

    // A trace whose batch reached its acknowledgement.
    const traced = await receiver.until((spans) => {
      for (const batch of spans.filter((s) => s.name === 'capture batch')) {
        const spansOf = spans.filter((s) => s.traceId === batch.traceId);
        if (spansOf.some((s) => s.name.startsWith('ack '))) return traceOf(batch, spansOf);
      }
      return undefined;
    });
    const { batch } = traced;
    const partition = pipeline.partitionOfCollection('shop', 'orders');
    expect(batch).toMatchObject({ service: 'tributary-capture', parentSpanId: '' });
    expect(batch.attributes['tributary.partition']).toBe(partition);

    // The batch's events, as the lake holds them (the independent record).
    const lines = [...(await linesByToken(await pipeline.lake())).values()];
    const first = String(batch.attributes['tributary.first_key']);
    const last = String(batch.attributes['tributary.last_key']);
    const inBatch = lines.filter((l) => {
      const key = String(l._tributary.key);
      return l._tributary.partition === partition && key >= first && key <= last;
    });
    expect(inBatch.length).toBeGreaterThan(0);
    expect(batch.attributes['tributary.events']).toBe(inBatch.length);

    // Capture: read, then send, both children of the batch span.
    const read = traced.one('change stream read');
    expect(read.parentSpanId).toBe(batch.spanId);
    expect(read.attributes).toMatchObject({
      'db.system.name': 'mongodb',
      'db.namespace': 'shop',
      'db.collection.name': 'orders',
    });
    const destination = pipeline.transport().messaging.destinationOf(partition);
    const send = traced.one(`send ${destination}`);
    expect(send).toMatchObject({ parentSpanId: batch.spanId, kind: OTLP_KIND.producer });
    expect(send.attributes).toMatchObject({
      'messaging.system': transport,
      'messaging.destination.name': destination,
      'messaging.operation.type': 'send',
      'tributary.first_key': first,
      'tributary.last_key': last,
    });
    // The broker client's own instrumentation, under the send.
    const client = traced.childrenOf(send).map((s) => s.scope);
    expect(client).toContainEqual(transport === 'bullmq' ? 'bullmq' : '@azure/service-bus');

    // Writer: one consumer span whose parent is capture's send.
    const process = traced.one(`process ${destination}`, 'tributary-writer');
    expect(process).toMatchObject({ parentSpanId: send.spanId, kind: OTLP_KIND.consumer });
    expect(process.attributes).toMatchObject({
      'messaging.system': transport,
      'messaging.operation.type': 'process',
      'tributary.partition': partition,
      'tributary.first_key': first,
      'tributary.last_key': last,
      'tributary.events': inBatch.length,
    });
    expect(process.attributes['tributary.batch.outcome']).toBe('written');
    const append = traced.one('append');
    const checkpoint = traced.one('checkpoint');
    const ack = traced.one(`ack ${destination}`);
    for (const step of [append, checkpoint, ack]) expect(step.parentSpanId).toBe(process.spanId);
    const flush = traced.one('flush');
    expect(flush.parentSpanId).toBe(append.spanId);
    expect(flush.attributes['tributary.file']).toMatch(/^shop\/orders\/year=\d{4}\//);
    // ADLS's own append and flush requests, under Tributary's flush.
    expect(traced.childrenOf(flush).map((s) => s.name)).toEqual(
      expect.arrayContaining(['DataLakeFileClient-append', 'DataLakeFileClient-flush']),
    );
    // In that order: published before processed; acknowledged only after the checkpoint.
    // (Start times may be whole milliseconds where end times are not: 1 ms of slack.)
    const ms = 1_000_000n;
    expect(send.endNanos <= process.startNanos + ms).toBe(true);
    expect(append.endNanos <= checkpoint.startNanos + ms).toBe(true);
    expect(checkpoint.endNanos <= ack.startNanos + ms).toBe(true);

    // Log lines written inside the batch's spans join its trace.
    const joined = writer
      .output()
      .split('\n')
      .filter((line) => line.includes(batch.traceId))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(joined.some((l) => l.msg === 'batch written' && l.span_id === process.spanId)).toBe(
      true,
    );

    // The file's closing flush covers that batch (and maybe others): a span linked to their traces.
    const closing = await receiver.until((spans) =>
      spans.find(
        (s) => s.name === 'close files' && s.links.some((l) => l.traceId === batch.traceId),
      ),
    );
    expect(closing.attributes['tributary.partition']).toBe(partition);

    // One trace per batch: every batch capture traced was processed, checkpointed and
    // acknowledged once, in its own trace.
    await receiver.until((spans) => {
      const batches = spans.filter((s) => s.name === 'capture batch');
      return batches.every((b) =>
        spans.some((s) => s.traceId === b.traceId && s.name.startsWith('ack ')),
      )
        ? true
        : undefined;
    });
    for (const each of receiver.spans.filter((s) => s.name === 'capture batch')) {
      const names = receiver.trace(each.traceId).map((s) => s.name);
      for (const step of ['change stream read', `send ${destination}`, 'append', 'checkpoint'])
        expect(
          names.filter((n) => n === step || (step.startsWith('send') && n.startsWith('send '))),
        ).toHaveLength(1);
      expect(names.filter((n) => n.startsWith('process '))).toHaveLength(1);
      expect(names.filter((n) => n.startsWith('ack '))).toHaveLength(1);
    }

    // With an endpoint set, metrics are pushed over OTLP too.
    expect(receiver.metricExports).toBeGreaterThan(0);

    // Only Tributary's own spans start traces: a library's background work (lock renewals,
    // receives that brought nothing, queue counts) is never a trace of its own.
    const roots = new Set(receiver.spans.filter((s) => s.parentSpanId === '').map((s) => s.name));
    expect(
      [...roots].filter((name) => !/^(capture batch|process .+|close files)$/.test(name)),
    ).toEqual([]);
  });
});

function traceOf(batch: ReceivedSpan, spans: readonly ReceivedSpan[]): BatchTrace {
  return {
    batch,
    spans,
    one(name, service) {
      const found = spans.filter(
        (s) =>
          (typeof name === 'string' ? s.name === name : name.test(s.name)) &&
          (service === undefined || s.service === service),
      );
      if (found.length !== 1)
        throw new Error(
          `expected one ${String(name)} span in the trace, found ${found.length}: ${spans.map((s) => s.name).join(', ')}`,
        );
      return found[0] as ReceivedSpan;
    },
    childrenOf(span) {
      return spans.filter((s) => s.parentSpanId === span.spanId);
    },
  };
}
