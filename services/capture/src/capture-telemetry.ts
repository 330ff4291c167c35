import {
  type Attributes,
  type Histogram,
  type Meter,
  type Tracer,
  SpanKind,
  SpanStatusCode,
  context,
  trace,
} from '@opentelemetry/api';
import { headroomIn } from '@tributary/checkpoint';
import { type BatchEntry, type ChangeBatch, isClaimed } from '@tributary/core';
import type { MessagingNames } from '@tributary/queue';
import {
  METRICS,
  type Tally,
  batchAttributes,
  countByNamespace,
  gaugeOf,
  histogramOf,
  namespaceAttributes,
  namespaceKey,
  observeProcessMemory,
  tallyOf,
  traceHeaders,
} from '@tributary/telemetry';

/** What capture's gauges read when a scrape or an export collects them. */
export interface CaptureGauges {
  /** Batches published that no checkpoint covers yet. */
  backlog(): number;
  paused(): boolean;
  /** Per partition: the key of the oldest event published that no checkpoint covers. */
  oldestUnflushedKey(partition: number): string | undefined;
  /** The resume point's clusterTime (seconds since the epoch), once known. */
  resumePointTime(): number | undefined;
  /** The oplog's time window (seconds since the epoch), where the source reports it. */
  oplogWindow(): { readonly first: number; readonly last: number } | undefined;
}

/** Where capture's telemetry goes. */
export interface CaptureTelemetryOptions {
  readonly tracer: Tracer;
  readonly meter: Meter;
  /** Whether spans are exported (else none are started). */
  readonly tracing: boolean;
  readonly messaging: MessagingNames;
  readonly partitionCount: number;
  /** Seconds since the epoch of an ordering key's clusterTime. */
  readonly timeOfKey: (key: string) => number;
}

/**
 * Capture's spans and metrics.
 *
 * Each batch of events is one trace: a `capture batch` span from the moment
 * its first event was read to the moment the queue holds it, with a
 * `change stream read` child (first to last event read and routed) and a
 * `send` producer span around the publish, whose context the batch carries
 * to the writer in its headers (W3C `traceparent`). Heartbeats and probes
 * are not traced: they carry no events, and a quiet pipeline would fill
 * the trace store with them.
 *
 * Counts per event cost a map lookup ({@link Tally}); gauges are read only
 * when metrics are collected.
 */
export class CaptureTelemetry {
  readonly #o: CaptureTelemetryOptions;
  readonly #captured: Tally;
  readonly #published: Tally;
  readonly #batches: Tally;
  readonly #rewinds: Tally;
  readonly #batchEvents: Histogram;
  readonly #batchBytes: Histogram;
  readonly #publishSeconds: Histogram;

  constructor(options: CaptureTelemetryOptions, gauges: CaptureGauges) {
    this.#o = options;
    const { meter } = options;
    this.#captured = tallyOf(meter, METRICS.captured);
    this.#published = tallyOf(meter, METRICS.published);
    this.#batches = tallyOf(meter, METRICS.batchesPublished);
    this.#rewinds = tallyOf(meter, METRICS.rewinds);
    this.#batchEvents = histogramOf(meter, METRICS.batchEvents);
    this.#batchBytes = histogramOf(meter, METRICS.batchBytes);
    this.#publishSeconds = histogramOf(meter, METRICS.publishDuration);
    this.#observe(meter, gauges);
    observeProcessMemory(meter);
  }

  /** Counts an event routed to `partition`. */
  captured(partition: number, ns: unknown): void {
    const key = namespaceKey(ns);
    this.#captured.add(`${partition}\u0000${key}`, () => ({
      'tributary.partition': partition,
      ...namespaceAttributes(ns),
    }));
  }

  /** Counts partitions capture re-reads (`reason`: the queue lost everything, or a writer reported a gap). */
  rewound(partitions: number, reason: 'queue_emptied' | 'gap_reported'): void {
    this.#rewinds.add(reason, () => ({ 'tributary.rewind.reason': reason }), partitions);
  }

  /**
   * Publishes `batch` through `publish`, traced and measured: `publish` is
   * given the headers that carry the trace to the writer.
   */
  async published(
    batch: ChangeBatch,
    bodyBytes: number,
    publish: (headers: Record<string, string>) => Promise<void>,
  ): Promise<void> {
    const started = performance.now();
    const events = batch.events;
    if (this.#o.tracing && events.length > 0) await this.#traced(batch, bodyBytes, publish);
    else await publish({});
    this.#publishSeconds.record((performance.now() - started) / 1000);
    const partition = batch.partition;
    const kind = events.length > 0 ? 'events' : 'heartbeat';
    this.#batches.add(`${partition}\u0000${kind}`, () => ({
      'tributary.partition': partition,
      'tributary.batch.kind': kind,
    }));
    if (events.length === 0) return;
    this.#batchEvents.record(events.length);
    this.#batchBytes.record(bodyBytes);
    const byNamespace = countByNamespace(events, (e) => (isClaimed(e) ? undefined : e.event.ns));
    for (const [key, { ns, events: count }] of byNamespace)
      this.#published.add(
        `${partition}\u0000${key}`,
        () => ({ 'tributary.partition': partition, ...ns }),
        count,
      );
  }

  async #traced(
    batch: ChangeBatch,
    bodyBytes: number,
    publish: (headers: Record<string, string>) => Promise<void>,
  ): Promise<void> {
    const { tracer, messaging } = this.#o;
    const events = batch.events;
    const first = events[0] as BatchEntry;
    const last = events[events.length - 1] as BatchEntry;
    const facts = batchAttributes({
      partition: batch.partition,
      generation: batch.generation,
      sequence: batch.sequence,
      events: events.length,
      firstKey: first.key,
      lastKey: batch.position.key,
    });
    const root = tracer.startSpan('capture batch', {
      kind: SpanKind.INTERNAL,
      startTime: first.capturedAt,
      attributes: facts,
    });
    const inRoot = trace.setSpan(context.active(), root);
    tracer
      .startSpan(
        'change stream read',
        {
          kind: SpanKind.INTERNAL,
          startTime: first.capturedAt,
          attributes: {
            'db.system.name': 'mongodb',
            'tributary.events': events.length,
            ...(isClaimed(first) ? {} : namespaceAttributes(first.event.ns)),
          },
        },
        inRoot,
      )
      .end(last.capturedAt);
    const destination = messaging.destinationOf(batch.partition);
    const send = tracer.startSpan(
      `send ${destination}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': messaging.system,
          'messaging.destination.name': destination,
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'send',
          'messaging.message.body.size': bodyBytes,
          ...facts,
        } satisfies Attributes,
      },
      inRoot,
    );
    const inSend = trace.setSpan(inRoot, send);
    try {
      await context.with(inSend, () => publish(traceHeaders(inSend)));
    } catch (error) {
      send.recordException(error instanceof Error ? error : String(error));
      send.setStatus({ code: SpanStatusCode.ERROR });
      root.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      send.end();
      root.end();
    }
  }

  #observe(meter: Meter, gauges: CaptureGauges): void {
    const partitions = Array.from({ length: this.#o.partitionCount }, (_, p) => p);
    gaugeOf(meter, METRICS.backlog).addCallback((result) => result.observe(gauges.backlog()));
    gaugeOf(meter, METRICS.paused).addCallback((result) => result.observe(gauges.paused() ? 1 : 0));
    gaugeOf(meter, METRICS.lag).addCallback((result) => {
      const now = Date.now() / 1000;
      for (const p of partitions) {
        const key = gauges.oldestUnflushedKey(p);
        const lag = key === undefined ? 0 : Math.max(0, now - this.#o.timeOfKey(key));
        result.observe(lag, { 'tributary.partition': p });
      }
    });
    gaugeOf(meter, METRICS.resumePointAge).addCallback((result) => {
      const time = gauges.resumePointTime();
      if (time !== undefined) result.observe(Math.max(0, Date.now() / 1000 - time));
    });
    gaugeOf(meter, METRICS.resumePointHeadroom).addCallback((result) => {
      const time = gauges.resumePointTime();
      const window = gauges.oplogWindow();
      if (time === undefined || !window) return;
      result.observe(headroomIn(window, time));
    });
  }
}
