import {
  type Attributes,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
} from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { DataPointType, MeterProvider } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { type CapturedEvent, eventTimeOfKey, formatOrderingKey } from '@tributary/core';
import type { DeliveredBatch } from '@tributary/queue';
import { countByNamespace } from '@tributary/telemetry';
import { OnDemandReader, testTracing } from '@tributary/testing/otel';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type BatchOutcome,
  type OwnedPartition,
  type WriterGauges,
  WriterTelemetry,
} from '../src/writer-telemetry.ts';
import { T0, batchOf, changeEvent, heartbeatAt } from './support.ts';

/** One data point as a test reads it: a counter's or gauge's value, a histogram's count. */
type Point = { attributes: Attributes; value: number } | { count: number };

const tracing = testTracing();
const { exporter } = tracing;
const tracer = tracing.provider.getTracer('tributary');
const messaging = { system: 'bullmq', destinationOf: (p: number) => `q-p${p}` };
const timeOfKey = (key: string) => eventTimeOfKey(key).getTime() / 1000;

/** The span capture's `send` would have been: where the delivered batch's trace comes from. */
const sender: SpanContext = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
};
const carried = { traceparent: `00-${sender.traceId}-${sender.spanId}-01` };

/** A batch as the queue hands it over. */
function delivered(partition: number, headers: Record<string, string> = {}): DeliveredBatch {
  return {
    id: `job-${partition}-17`,
    partition,
    body: new Uint8Array(321),
    failedAttempts: 2,
    headers,
  };
}

const orders = (n: number) => changeEvent(n, { coll: 'orders' });
const users = (n: number) => changeEvent(n, { coll: 'users' });
const nsOf = (e: CapturedEvent) => e.event.ns;

const byName = (name: string) => (s: ReadableSpan) => s.name === name;

describe('writer telemetry', () => {
  let reader: OnDemandReader;
  let meterProvider: MeterProvider;

  beforeAll(() => tracing.register());
  afterAll(() => tracing.close());
  beforeEach(() => {
    exporter.reset();
    reader = new OnDemandReader();
    meterProvider = new MeterProvider({ readers: [reader] });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await meterProvider.shutdown();
  });

  const noGauges: WriterGauges = { owned: () => [], inFlight: () => ({ batches: 0, bytes: 0 }) };

  function telemetry(options: { tracing?: boolean; gauges?: WriterGauges } = {}): WriterTelemetry {
    return new WriterTelemetry(
      {
        tracer,
        meter: meterProvider.getMeter('tributary'),
        tracing: options.tracing ?? true,
        messaging,
        timeOfKey,
      },
      options.gauges ?? noGauges,
    );
  }

  /** What a collection reports for the metric `name`, one entry per data point. */
  async function collected(name: string): Promise<Point[]> {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const metric = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((m) => m.descriptor.name === name);
    if (!metric) return [];
    if (metric.dataPointType === DataPointType.HISTOGRAM)
      return metric.dataPoints.map((p) => ({ count: p.value.count }));
    if (metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM)
      throw new Error(`${name}: unexpected exponential histogram`);
    return metric.dataPoints
      .map((p) => ({ attributes: p.attributes, value: p.value }))
      .sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));
  }

  it('continues the carried trace in a process span whose children are append, flush, checkpoint and ack', async () => {
    const subject = telemetry();
    const batch = batchOf(2, [orders(0), orders(1), users(2)], '', 5);
    const receivedAt = Date.now() - 25;

    const result = await subject.process(delivered(2, carried), batch, receivedAt, async () => {
      await subject.append(() => subject.flush('shop/orders/a.jsonl', 640, 2, async () => {}));
      await subject.checkpoint(batch.position.key, async () => {});
      await subject.ack(2, async () => {});
      return 'written';
    });
    expect(result).toBe('written');

    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual([
      'ack q-p2',
      'append',
      'checkpoint',
      'flush',
      'process q-p2',
    ]);
    const process = spans.find(byName('process q-p2')) as ReadableSpan;
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.spanContext().traceId).toBe(sender.traceId);
    expect(process.parentSpanContext?.spanId).toBe(sender.spanId);
    expect(process.parentSpanContext?.isRemote).toBe(true);
    expect(hrTimeToMilliseconds(process.startTime)).toBeCloseTo(receivedAt, 0);
    expect(process.attributes).toEqual({
      'messaging.system': 'bullmq',
      'messaging.destination.name': 'q-p2',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.message.id': 'job-2-17',
      'messaging.message.body.size': 321,
      'tributary.failed_attempts': 2,
      'tributary.partition': 2,
      'tributary.generation': 5,
      'tributary.sequence': 0,
      'tributary.events': 3,
      'tributary.first_key': batch.events[0]?.key,
      'tributary.last_key': batch.position.key,
    });

    const processId = process.spanContext().spanId;
    for (const name of ['append', 'checkpoint', 'ack q-p2']) {
      const child = spans.find(byName(name)) as ReadableSpan;
      expect(child.spanContext().traceId).toBe(sender.traceId);
      expect(child.parentSpanContext?.spanId).toBe(processId);
    }
    const flush = spans.find(byName('flush')) as ReadableSpan;
    expect(flush.parentSpanContext?.spanId).toBe(
      spans.find(byName('append'))?.spanContext().spanId,
    );
    expect(flush.attributes).toEqual({
      'tributary.file': 'shop/orders/a.jsonl',
      'tributary.bytes': 640,
      'tributary.events': 2,
    });
    const ack = spans.find(byName('ack q-p2')) as ReadableSpan;
    expect(ack.kind).toBe(SpanKind.CLIENT);
    expect(ack.attributes).toEqual({
      'messaging.system': 'bullmq',
      'messaging.destination.name': 'q-p2',
      'messaging.operation.type': 'settle',
      'messaging.operation.name': 'ack',
    });
  });

  it('times append, flush, checkpoint and ack, and records the checkpoint’s lag behind the source', async () => {
    const subject = telemetry({ tracing: false });
    await subject.append(async () => {});
    await subject.flush('f', 1, 1, async () => {});
    await subject.checkpoint(orders(0).key, async () => {});
    await subject.ack(0, async () => {});
    await expect(subject.ack(0, () => Promise.reject(new Error('gone')))).rejects.toThrow('gone');

    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(await collected('tributary.writer.append.duration')).toEqual([{ count: 1 }]);
    expect(await collected('tributary.writer.flush.duration')).toEqual([{ count: 1 }]);
    expect(await collected('tributary.writer.checkpoint.duration')).toEqual([{ count: 1 }]);
    expect(await collected('tributary.writer.flushed.lag')).toEqual([{ count: 1 }]);
    // A failed ack took time too.
    expect(await collected('tributary.writer.ack.duration')).toEqual([{ count: 2 }]);
  });

  it('does not trace a heartbeat that carries no trace, but still runs its work', async () => {
    const subject = telemetry();
    const previous = orders(0);
    const heartbeat = heartbeatAt(1, orders(1), previous.key);
    const work = vi.fn(async () => {
      await subject.checkpoint(heartbeat.position.key, async () => {});
      return 'advanced';
    });

    await expect(subject.process(delivered(1), heartbeat, Date.now(), work)).resolves.toBe(
      'advanced',
    );
    expect(work).toHaveBeenCalledTimes(1);
    // The checkpoint inside starts a trace of its own: the process span is what is missing.
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['checkpoint']);
  });

  it('traces a heartbeat that carries a trace', async () => {
    const heartbeat = heartbeatAt(1, orders(1), orders(0).key);
    await telemetry().process(delivered(1, carried), heartbeat, Date.now(), async () => {});
    const [process] = exporter.getFinishedSpans();
    expect(process?.name).toBe('process q-p1');
    expect(process?.parentSpanContext?.spanId).toBe(sender.spanId);
    expect(process?.attributes['tributary.events']).toBe(0);
    expect(process?.attributes).not.toHaveProperty('tributary.first_key');
  });

  it('traces a batch of events that carries no trace, as a root span', async () => {
    const batch = batchOf(5, [orders(0)]);
    await telemetry().process(delivered(5), batch, Date.now(), async () => {});
    const [process] = exporter.getFinishedSpans();
    expect(process?.name).toBe('process q-p5');
    expect(process?.parentSpanContext).toBeUndefined();
    expect(process?.attributes).toMatchObject({ 'tributary.partition': 5, 'tributary.events': 1 });
  });

  it('traces a batch that cannot be decoded, as a root span naming the delivered partition', async () => {
    await expect(
      telemetry().process(delivered(3), undefined, Date.now(), async () => 'dead-lettered'),
    ).resolves.toBe('dead-lettered');

    const [process] = exporter.getFinishedSpans();
    expect(process?.name).toBe('process q-p3');
    expect(process?.kind).toBe(SpanKind.CONSUMER);
    expect(process?.parentSpanContext).toBeUndefined();
    expect(process?.attributes).toMatchObject({
      'messaging.destination.name': 'q-p3',
      'messaging.message.id': 'job-3-17',
      'tributary.partition': 3,
    });
    expect(process?.attributes).not.toHaveProperty('tributary.events');
  });

  it('records no span with tracing off, yet runs the work', async () => {
    const subject = telemetry({ tracing: false });
    const batch = batchOf(0, [orders(0)]);
    await expect(
      subject.process(delivered(0, carried), batch, Date.now(), async () => {
        await subject.append(async () => {});
        await subject.ack(0, async () => {});
        return 7;
      }),
    ).resolves.toBe(7);
    await subject.closing(0, [sender], async () => {});
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('marks the process span ERROR and records the failure when its work throws', async () => {
    const failure = new Error('lake unavailable');
    await expect(
      telemetry().process(delivered(0, carried), batchOf(0, [orders(0)]), Date.now(), () =>
        Promise.reject(failure),
      ),
    ).rejects.toBe(failure);
    const [process] = exporter.getFinishedSpans();
    expect(process?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'lake unavailable' });
    expect(process?.events.map((e) => e.name)).toEqual(['exception']);
  });

  it.each<{ outcome: BatchOutcome; status: SpanStatusCode; message?: string }>([
    { outcome: 'dead_lettered', status: SpanStatusCode.ERROR, message: 'batch dead lettered' },
    { outcome: 'retried', status: SpanStatusCode.ERROR, message: 'batch retried' },
    { outcome: 'written', status: SpanStatusCode.UNSET },
    { outcome: 'dropped_after_gap', status: SpanStatusCode.UNSET },
  ])(
    'says on the process span that a batch ended $outcome',
    async ({ outcome, status, message }) => {
      const subject = telemetry();
      await subject.process(delivered(4, carried), batchOf(4, [orders(0)]), Date.now(), async () =>
        subject.settled(4, outcome),
      );

      const [process] = exporter.getFinishedSpans();
      expect(process?.attributes['tributary.batch.outcome']).toBe(outcome);
      expect(process?.status).toEqual(
        message === undefined ? { code: status } : { code: status, message },
      );
      expect(await collected('tributary.writer.batches')).toEqual([
        { attributes: { 'tributary.partition': 4, 'tributary.batch.outcome': outcome }, value: 1 },
      ]);
    },
  );

  it('counts events written, duplicates and dead-lettered per partition and namespace, and batches by outcome', async () => {
    const subject = telemetry({ tracing: false });
    subject.settled(1, 'written', {
      written: countByNamespace([orders(0), orders(1), users(2)], nsOf),
      duplicates: countByNamespace([users(3)], nsOf),
    });
    subject.settled(1, 'written', { written: countByNamespace([orders(4)], nsOf) });
    subject.settled(2, 'dead_lettered', {
      deadLettered: countByNamespace([orders(5), orders(6)], nsOf),
    });
    // An undecodable batch: a batch dead-lettered, no events known.
    subject.settled(2, 'dead_lettered');

    const at = (partition: number, coll: string, value: number) => ({
      attributes: {
        'tributary.partition': partition,
        'db.namespace': 'shop',
        'db.collection.name': coll,
      },
      value,
    });
    expect(await collected('tributary.writer.events.written')).toEqual([
      at(1, 'orders', 3),
      at(1, 'users', 1),
    ]);
    expect(await collected('tributary.writer.events.duplicates')).toEqual([at(1, 'users', 1)]);
    expect(await collected('tributary.writer.events.dead_lettered')).toEqual([at(2, 'orders', 2)]);
    expect(await collected('tributary.writer.batches')).toEqual([
      { attributes: { 'tributary.partition': 1, 'tributary.batch.outcome': 'written' }, value: 2 },
      {
        attributes: { 'tributary.partition': 2, 'tributary.batch.outcome': 'dead_lettered' },
        value: 2,
      },
    ]);
  });

  it('closes files in a trace of its own, linked to the batches whose lines they hold', async () => {
    const subject = telemetry();
    const other: SpanContext = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
    };

    const result = await tracer.startActiveSpan('process q-p6', async (outer) => {
      try {
        return await subject.closing(6, [sender, other], async () => 'closed');
      } finally {
        outer.end();
      }
    });
    expect(result).toBe('closed');

    const spans = exporter.getFinishedSpans();
    const close = spans.find(byName('close files')) as ReadableSpan;
    const outer = spans.find(byName('process q-p6')) as ReadableSpan;
    expect(close.parentSpanContext).toBeUndefined();
    expect(close.spanContext().traceId).not.toBe(outer.spanContext().traceId);
    expect(close.links.map((l) => l.context)).toEqual([sender, other]);
    expect(close.attributes).toEqual({
      'tributary.partition': 6,
      'messaging.batch.message_count': 2,
    });
  });

  it('makes no close span when the closed files hold no traced batch', async () => {
    const work = vi.fn(async () => 'closed');
    await expect(telemetry().closing(6, [], work)).resolves.toBe('closed');
    expect(work).toHaveBeenCalledTimes(1);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('reports lag, checkpoint age and gap age per owned partition, open gaps, owned partitions and bytes in flight', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const now = (T0 + 90) * 1000;
    vi.setSystemTime(now);
    const owned: OwnedPartition[] = [
      {
        partition: 1,
        checkpointKey: formatOrderingKey({ t: T0 + 30, i: 4, n: 0 }),
        checkpointedAt: now - 5_000,
        gapSince: undefined,
      },
      {
        partition: 4,
        checkpointKey: formatOrderingKey({ t: T0, i: 1, n: 2 }),
        checkpointedAt: now - 12_500,
        gapSince: now - 30_000,
      },
      // Never checkpointed: no lag or age to report yet.
      { partition: 7, checkpointKey: undefined, checkpointedAt: undefined, gapSince: undefined },
    ];
    telemetry({ gauges: { owned: () => owned, inFlight: () => ({ batches: 3, bytes: 4096 }) } });

    const p = (partition: number, value: number) => ({
      attributes: { 'tributary.partition': partition },
      value,
    });
    expect(await collected('tributary.writer.lag')).toEqual([p(1, 60), p(4, 90)]);
    expect(await collected('tributary.writer.checkpoint.age')).toEqual([p(1, 5), p(4, 12.5)]);
    expect(await collected('tributary.writer.gap.age')).toEqual([p(4, 30)]);
    expect(await collected('tributary.writer.gaps.open')).toEqual([{ attributes: {}, value: 1 }]);
    expect(await collected('tributary.writer.partitions.owned')).toEqual([
      { attributes: {}, value: 3 },
    ]);
    expect(await collected('tributary.writer.in_flight.size')).toEqual([
      { attributes: {}, value: 4096 },
    ]);
  });

  it('reports no partition gauges and zero counts while it owns nothing', async () => {
    telemetry();
    expect(await collected('tributary.writer.lag')).toEqual([]);
    expect(await collected('tributary.writer.gap.age')).toEqual([]);
    expect(await collected('tributary.writer.gaps.open')).toEqual([{ attributes: {}, value: 0 }]);
    expect(await collected('tributary.writer.partitions.owned')).toEqual([
      { attributes: {}, value: 0 },
    ]);
  });
});
