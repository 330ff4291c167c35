import { type Attributes, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { DataPointType, MeterProvider } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import {
  type CapturedEvent,
  type ChangeBatch,
  eventTimeOfKey,
  formatOrderingKey,
} from '@tributary/core';
import { Timestamp } from 'bson';
import { OnDemandReader, testTracing } from '@tributary/testing/otel';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CaptureGauges, CaptureTelemetry } from '../src/capture-telemetry.ts';

/** One data point as a test reads it: a counter's or gauge's value, a histogram's count and sum. */
type Point = { attributes: Attributes; value: number } | { count: number; sum: number };

const tracing = testTracing();
const { exporter } = tracing;
const tracer = tracing.provider.getTracer('tributary');
const messaging = { system: 'bullmq', destinationOf: (p: number) => `q-p${p}` };
const timeOfKey = (key: string) => eventTimeOfKey(key).getTime() / 1000;

/** Seconds since the epoch of the made-up events' clusterTime. */
const T = 1_796_663_497;

/** An insert into `db.coll`, read `msAgo` milliseconds ago, at clusterTime (T, i). */
function insert(i: number, ns = { db: 'shop', coll: 'orders' }, msAgo = 50): CapturedEvent {
  return {
    key: formatOrderingKey({ t: T, i, n: 0 }),
    capturedAt: new Date(Date.now() - msAgo),
    event: {
      _id: { _data: `82${String(i).padStart(8, '0')}` },
      ns,
      clusterTime: new Timestamp({ t: T, i }),
      operationType: 'insert',
    },
  };
}

/** A batch of `events` for `partition`, positioned at its last event. */
function batchOf(partition: number, events: CapturedEvent[]): ChangeBatch {
  const last = events[events.length - 1] as CapturedEvent;
  return {
    partition,
    generation: 4,
    sequence: 9,
    events,
    position: { key: last.key, token: last.event._id },
    previousKey: formatOrderingKey({ t: T, i: 0, n: 0 }),
  };
}

/** A heartbeat for `partition`: no events, only a position. */
function heartbeatOf(partition: number): ChangeBatch {
  return {
    partition,
    generation: 4,
    sequence: 10,
    events: [],
    position: { key: formatOrderingKey({ t: T, i: 99, n: 0 }), token: { _data: '8299' } },
    previousKey: formatOrderingKey({ t: T, i: 3, n: 0 }),
  };
}

/** Gauges that report nothing in particular; tests override what they look at. */
function quietGauges(overrides: Partial<CaptureGauges> = {}): CaptureGauges {
  return {
    backlog: () => 0,
    paused: () => false,
    oldestUnflushedKey: () => undefined,
    resumePointTime: () => undefined,
    oplogWindow: () => undefined,
    ...overrides,
  };
}

const byName = (name: string) => (s: ReadableSpan) => s.name === name;

describe('capture telemetry', () => {
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

  function telemetry(
    options: { tracing?: boolean; partitionCount?: number; gauges?: CaptureGauges } = {},
  ): CaptureTelemetry {
    return new CaptureTelemetry(
      {
        tracer,
        meter: meterProvider.getMeter('tributary'),
        tracing: options.tracing ?? true,
        messaging,
        partitionCount: options.partitionCount ?? 4,
        timeOfKey,
      },
      options.gauges ?? quietGauges(),
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
      return metric.dataPoints.map((p) => ({ count: p.value.count, sum: p.value.sum ?? NaN }));
    if (metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM)
      throw new Error(`${name}: unexpected exponential histogram`);
    return metric.dataPoints
      .map((p) => ({ attributes: p.attributes, value: p.value }))
      .sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));
  }

  /** Publishes through `telemetry`, keeping the headers `publish` was given. */
  async function publish(
    subject: CaptureTelemetry,
    batch: ChangeBatch,
    bytes = 512,
  ): Promise<Record<string, string>> {
    let given: Record<string, string> | undefined;
    await subject.published(batch, bytes, async (headers) => {
      given = headers;
    });
    expect(given).toBeDefined();
    return given as Record<string, string>;
  }

  it('traces a batch as a capture span with a read child and a send child whose context the headers carry', async () => {
    const events = [insert(1, undefined, 80), insert(2, undefined, 60), insert(3, undefined, 40)];
    const batch = batchOf(2, events);
    let activeInPublish: string | undefined;
    let headers: Record<string, string> = {};
    await telemetry().published(batch, 777, async (given) => {
      headers = given;
      activeInPublish = trace.getActiveSpan()?.spanContext().spanId;
    });

    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual([
      'capture batch',
      'change stream read',
      'send q-p2',
    ]);
    const root = spans.find(byName('capture batch')) as ReadableSpan;
    const read = spans.find(byName('change stream read')) as ReadableSpan;
    const send = spans.find(byName('send q-p2')) as ReadableSpan;
    const traceId = root.spanContext().traceId;

    expect(root.parentSpanContext).toBeUndefined();
    expect(root.kind).toBe(SpanKind.INTERNAL);
    expect(hrTimeToMilliseconds(root.startTime)).toBe(events[0]?.capturedAt.getTime());
    for (const child of [read, send]) {
      expect(child.spanContext().traceId).toBe(traceId);
      expect(child.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    }
    expect(read.kind).toBe(SpanKind.INTERNAL);
    expect(hrTimeToMilliseconds(read.startTime)).toBe(events[0]?.capturedAt.getTime());
    expect(hrTimeToMilliseconds(read.endTime)).toBe(events[2]?.capturedAt.getTime());
    expect(read.attributes).toMatchObject({
      'db.system.name': 'mongodb',
      'tributary.events': 3,
      'db.namespace': 'shop',
      'db.collection.name': 'orders',
    });
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.attributes).toMatchObject({
      'messaging.system': 'bullmq',
      'messaging.destination.name': 'q-p2',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.message.body.size': 777,
    });
    expect(activeInPublish).toBe(send.spanContext().spanId);

    expect(headers.traceparent).toBe(`00-${traceId}-${send.spanContext().spanId}-01`);

    const facts = {
      'tributary.partition': 2,
      'tributary.generation': 4,
      'tributary.sequence': 9,
      'tributary.events': 3,
      'tributary.first_key': events[0]?.key,
      'tributary.last_key': events[2]?.key,
    };
    expect(root.attributes).toEqual(facts);
    expect(send.attributes).toMatchObject(facts);
    for (const span of spans) expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('publishes a heartbeat untraced, with empty headers, and counts it as a heartbeat', async () => {
    const subject = telemetry();
    const headers = await publish(subject, heartbeatOf(1));

    expect(headers).toEqual({});
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(await collected('tributary.capture.batches.published')).toEqual([
      { attributes: { 'tributary.partition': 1, 'tributary.batch.kind': 'heartbeat' }, value: 1 },
    ]);
    expect(await collected('tributary.capture.events.published')).toEqual([]);
    expect(await collected('tributary.batch.events')).toEqual([]);
    expect(await collected('tributary.capture.publish.duration')).toMatchObject([{ count: 1 }]);
  });

  it('records no span and carries no headers with tracing off, yet still counts', async () => {
    const subject = telemetry({ tracing: false });
    const headers = await publish(subject, batchOf(3, [insert(1), insert(2)]), 300);

    expect(headers).toEqual({});
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(await collected('tributary.capture.batches.published')).toEqual([
      { attributes: { 'tributary.partition': 3, 'tributary.batch.kind': 'events' }, value: 1 },
    ]);
    expect(await collected('tributary.capture.events.published')).toEqual([
      {
        attributes: {
          'tributary.partition': 3,
          'db.namespace': 'shop',
          'db.collection.name': 'orders',
        },
        value: 2,
      },
    ]);
    expect(await collected('tributary.batch.events')).toEqual([{ count: 1, sum: 2 }]);
  });

  it('counts captured and published events per partition and namespace, and records batch sizes', async () => {
    const subject = telemetry();
    const orders = { db: 'shop', coll: 'orders' };
    const users = { db: 'shop', coll: 'users' };
    subject.captured(0, orders);
    subject.captured(0, orders);
    subject.captured(0, users);
    subject.captured(1, orders);
    await publish(
      subject,
      batchOf(0, [insert(1, orders), insert(2, users), insert(3, orders)]),
      900,
    );
    await publish(subject, batchOf(1, [insert(4, orders)]), 100);
    await publish(subject, heartbeatOf(0));

    const at = (partition: number, coll: string, value: number) => ({
      attributes: {
        'tributary.partition': partition,
        'db.namespace': 'shop',
        'db.collection.name': coll,
      },
      value,
    });
    expect(await collected('tributary.capture.events.captured')).toEqual([
      at(0, 'orders', 2),
      at(0, 'users', 1),
      at(1, 'orders', 1),
    ]);
    expect(await collected('tributary.capture.events.published')).toEqual([
      at(0, 'orders', 2),
      at(0, 'users', 1),
      at(1, 'orders', 1),
    ]);
    expect(await collected('tributary.capture.batches.published')).toEqual([
      { attributes: { 'tributary.partition': 0, 'tributary.batch.kind': 'events' }, value: 1 },
      { attributes: { 'tributary.partition': 0, 'tributary.batch.kind': 'heartbeat' }, value: 1 },
      { attributes: { 'tributary.partition': 1, 'tributary.batch.kind': 'events' }, value: 1 },
    ]);
    // Heartbeats carry no events: only the two event batches are sized.
    expect(await collected('tributary.batch.events')).toEqual([{ count: 2, sum: 4 }]);
    expect(await collected('tributary.batch.size')).toEqual([{ count: 2, sum: 1000 }]);
  });

  it('counts an event of unknown namespace under empty namespace labels', async () => {
    const subject = telemetry();
    subject.captured(2, undefined);
    expect(await collected('tributary.capture.events.captured')).toEqual([
      {
        attributes: { 'tributary.partition': 2, 'db.namespace': '', 'db.collection.name': '' },
        value: 1,
      },
    ]);
  });

  it('marks the send span ERROR when publishing fails, rethrows, and counts no batch published', async () => {
    const refused = new Error('queue refused the batch');
    await expect(
      telemetry().published(batchOf(1, [insert(1)]), 64, () => Promise.reject(refused)),
    ).rejects.toBe(refused);

    const spans = exporter.getFinishedSpans();
    const send = spans.find(byName('send q-p1'));
    const root = spans.find(byName('capture batch'));
    expect(send?.status.code).toBe(SpanStatusCode.ERROR);
    expect(send?.events.map((e) => e.name)).toEqual(['exception']);
    expect(send?.events[0]?.attributes).toMatchObject({
      'exception.message': 'queue refused the batch',
    });
    expect(root?.status.code).toBe(SpanStatusCode.ERROR);
    expect(send?.ended && root?.ended).toBe(true);
    expect(await collected('tributary.capture.batches.published')).toEqual([]);
    expect(await collected('tributary.capture.events.published')).toEqual([]);
  });

  it('counts rewound partitions by reason', async () => {
    const subject = telemetry();
    subject.rewound(3, 'queue_emptied');
    subject.rewound(1, 'gap_reported');
    subject.rewound(2, 'gap_reported');
    expect(await collected('tributary.capture.rewinds')).toEqual([
      { attributes: { 'tributary.rewind.reason': 'gap_reported' }, value: 3 },
      { attributes: { 'tributary.rewind.reason': 'queue_emptied' }, value: 3 },
    ]);
  });

  it('reports each partition’s lag as now minus its oldest unflushed event’s time, 0 when caught up', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((T + 42) * 1000);
    const oldest = new Map([
      [1, formatOrderingKey({ t: T, i: 7, n: 0 })],
      [2, formatOrderingKey({ t: T + 40, i: 1, n: 3 })],
      // A key from a clock ahead of ours is no negative lag.
      [3, formatOrderingKey({ t: T + 100, i: 1, n: 0 })],
    ]);
    telemetry({ gauges: quietGauges({ oldestUnflushedKey: (p) => oldest.get(p) }) });

    expect(await collected('tributary.capture.lag')).toEqual([
      { attributes: { 'tributary.partition': 0 }, value: 0 },
      { attributes: { 'tributary.partition': 1 }, value: 42 },
      { attributes: { 'tributary.partition': 2 }, value: 2 },
      { attributes: { 'tributary.partition': 3 }, value: 0 },
    ]);
  });

  it('reports backlog, pause and the resume point’s age as the gauges read them', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((T + 30) * 1000);
    telemetry({
      gauges: quietGauges({ backlog: () => 17, paused: () => true, resumePointTime: () => T }),
    });
    expect(await collected('tributary.capture.backlog')).toEqual([{ attributes: {}, value: 17 }]);
    expect(await collected('tributary.capture.paused')).toEqual([{ attributes: {}, value: 1 }]);
    expect(await collected('tributary.capture.resume_point.age')).toEqual([
      { attributes: {}, value: 30 },
    ]);
  });

  it.each([
    { behaviour: 'within the window', resume: 1800, headroom: 0.8 },
    { behaviour: 'at the oldest entry', resume: 1000, headroom: 0 },
    { behaviour: 'past the newest entry', resume: 2500, headroom: 1 },
    { behaviour: 'behind the window (history lost)', resume: 900, headroom: -0.1 },
  ])('places a resume point $behaviour at $headroom of the oplog window', async (c) => {
    telemetry({
      gauges: quietGauges({
        resumePointTime: () => c.resume,
        oplogWindow: () => ({ first: 1000, last: 2000 }),
      }),
    });
    const [point] = await collected('tributary.capture.resume_point.headroom');
    expect(point).toMatchObject({ attributes: {} });
    expect((point as { value: number }).value).toBeCloseTo(c.headroom, 10);
  });

  it('reports a window of no width as full headroom', async () => {
    telemetry({
      gauges: quietGauges({
        resumePointTime: () => 1000,
        oplogWindow: () => ({ first: 1000, last: 1000 }),
      }),
    });
    expect(await collected('tributary.capture.resume_point.headroom')).toEqual([
      { attributes: {}, value: 1 },
    ]);
  });

  it('reports no headroom where the oplog window or the resume point is unknown', async () => {
    telemetry({ gauges: quietGauges({ resumePointTime: () => 1800 }) });
    expect(await collected('tributary.capture.resume_point.headroom')).toEqual([]);
    await meterProvider.shutdown();

    reader = new OnDemandReader();
    meterProvider = new MeterProvider({ readers: [reader] });
    telemetry({ gauges: quietGauges({ oplogWindow: () => ({ first: 1000, last: 2000 }) }) });
    expect(await collected('tributary.capture.resume_point.headroom')).toEqual([]);
    expect(await collected('tributary.capture.resume_point.age')).toEqual([]);
  });
});
