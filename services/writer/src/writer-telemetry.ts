import {
  type Attributes,
  type Histogram,
  type Meter,
  type SpanContext,
  type Tracer,
  SpanKind,
  SpanStatusCode,
  context,
  trace,
} from '@opentelemetry/api';
import type { ChangeBatch } from '@tributary/core';
import type { DeliveredBatch, MessagingNames } from '@tributary/queue';
import {
  METRICS,
  type MetricDefinition,
  type Tally,
  batchAttributes,
  contextOfHeaders,
  gaugeOf,
  histogramOf,
  inSpan,
  type NamespaceCounts,
  observeProcessMemory,
  tallyOf,
} from '@tributary/telemetry';

/** One owned partition as the writer's gauges see it. */
export interface OwnedPartition {
  readonly partition: number;
  /** Key of the last event the stored checkpoint covers. */
  readonly checkpointKey: string | undefined;
  /** When the last checkpoint was stored (ms since the epoch), if one was. */
  readonly checkpointedAt: number | undefined;
  /** Since when it waits for capture to re-send batches lost from the queue, if it does. */
  readonly gapSince: number | undefined;
}

/** What the writer's gauges read when metrics are collected. */
export interface WriterGauges {
  owned(): readonly OwnedPartition[];
  inFlight(): { readonly batches: number; readonly bytes: number };
}

/** Where the writer's telemetry goes. */
export interface WriterTelemetryOptions {
  readonly tracer: Tracer;
  readonly meter: Meter;
  readonly tracing: boolean;
  readonly messaging: MessagingNames;
  /** Seconds since the epoch of an ordering key's clusterTime. */
  readonly timeOfKey: (key: string) => number;
}

/** How a delivered batch ended, for the batch counter. */
export type BatchOutcome =
  'written' | 'replayed' | 'dead_lettered' | 'dropped_after_gap' | 'retried';

/**
 * The writer's spans and metrics.
 *
 * A delivered batch is processed inside a `process <queue>` consumer span
 * whose parent is capture's `send` span, taken from the batch's headers, so
 * capture's and the writer's spans are one trace. Its children: `append`
 * (with one `flush` per file written: ADLS's append and flush of the
 * batch's lines), `checkpoint`, and `ack`. A closing flush between batches
 * (`close files`) covers data of many batches: it links to their traces
 * (the messaging conventions' batch pattern). Heartbeats, which carry no
 * trace, are not traced.
 */
export class WriterTelemetry {
  readonly #o: WriterTelemetryOptions;
  readonly #written: Tally;
  readonly #duplicates: Tally;
  readonly #deadLettered: Tally;
  readonly #batches: Tally;
  readonly #append: Histogram;
  readonly #flush: Histogram;
  readonly #checkpoint: Histogram;
  readonly #ack: Histogram;
  readonly #flushLag: Histogram;

  constructor(options: WriterTelemetryOptions, gauges: WriterGauges) {
    this.#o = options;
    const { meter } = options;
    this.#written = tallyOf(meter, METRICS.written);
    this.#duplicates = tallyOf(meter, METRICS.duplicates);
    this.#deadLettered = tallyOf(meter, METRICS.deadLettered);
    this.#batches = tallyOf(meter, METRICS.batches);
    this.#append = histogramOf(meter, METRICS.appendDuration);
    this.#flush = histogramOf(meter, METRICS.flushDuration);
    this.#checkpoint = histogramOf(meter, METRICS.checkpointDuration);
    this.#ack = histogramOf(meter, METRICS.ackDuration);
    this.#flushLag = histogramOf(meter, METRICS.flushedLag);
    this.#observe(meter, gauges);
    observeProcessMemory(meter);
  }

  /**
   * Runs the processing of a delivered batch inside its consumer span (see
   * the class). `receivedAt` is when the queue handed it over.
   */
  process<T>(
    delivered: DeliveredBatch,
    batch: ChangeBatch | undefined,
    receivedAt: number,
    work: () => Promise<T>,
  ): Promise<T> {
    const carried = contextOfHeaders(delivered.headers);
    // A heartbeat carries no trace; a batch of events, or one that cannot be decoded, is traced.
    const traced = trace.getSpanContext(carried) !== undefined || !batch || batch.events.length > 0;
    if (!this.#o.tracing || !traced) return work();
    const destination = this.#o.messaging.destinationOf(delivered.partition);
    const attributes: Attributes = {
      'messaging.system': this.#o.messaging.system,
      'messaging.destination.name': destination,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.message.id': delivered.id,
      'messaging.message.body.size': delivered.body.byteLength,
      'tributary.failed_attempts': delivered.failedAttempts,
      ...(batch
        ? batchAttributes({
            partition: batch.partition,
            generation: batch.generation,
            sequence: batch.sequence,
            events: batch.events.length,
            firstKey: batch.events[0]?.key,
            lastKey: batch.position.key,
          })
        : { 'tributary.partition': delivered.partition }),
    };
    return context.with(carried, () =>
      inSpan(
        this.#o.tracer,
        `process ${destination}`,
        { kind: SpanKind.CONSUMER, startTime: receivedAt, attributes },
        () => work(),
      ),
    );
  }

  /** Appends a batch: spans and the latency histogram. */
  append<T>(work: () => Promise<T>): Promise<T> {
    return this.#timed(this.#append, 'append', {}, work);
  }

  /** One file's append and flush. */
  flush<T>(path: string, bytes: number, events: number, work: () => Promise<T>): Promise<T> {
    const attributes = {
      'tributary.file': path,
      'tributary.bytes': bytes,
      'tributary.events': events,
    };
    return this.#timed(this.#flush, 'flush', attributes, work);
  }

  /** Stores the checkpoint covering a batch; records how far behind the source it stands. */
  async checkpoint<T>(lastKey: string, work: () => Promise<T>): Promise<T> {
    const result = await this.#timed(this.#checkpoint, 'checkpoint', {}, work);
    this.#flushLag.record(Math.max(0, Date.now() / 1000 - this.#o.timeOfKey(lastKey)));
    return result;
  }

  /** Acknowledges a batch of `partition`. */
  ack<T>(partition: number, work: () => Promise<T>): Promise<T> {
    const destination = this.#o.messaging.destinationOf(partition);
    const attributes = {
      'messaging.system': this.#o.messaging.system,
      'messaging.destination.name': destination,
      'messaging.operation.type': 'settle',
      'messaging.operation.name': 'ack',
    };
    return this.#timed(this.#ack, `ack ${destination}`, attributes, work, SpanKind.CLIENT);
  }

  /**
   * Closing flushes between batches: one span linked to the traces of the
   * batches whose data the closed files hold.
   */
  closing<T>(partition: number, links: readonly SpanContext[], work: () => Promise<T>): Promise<T> {
    if (!this.#o.tracing || links.length === 0) return work();
    return inSpan(
      this.#o.tracer,
      'close files',
      {
        // A trace of its own, between batches (the partition lets it start one),
        // linked to the batches whose lines the files hold.
        root: true,
        attributes: {
          'tributary.partition': partition,
          'messaging.batch.message_count': links.length,
        },
        links: links.map((linked) => ({ context: linked })),
      },
      work,
    );
  }

  /** Counts a settled batch: events written, dropped as duplicates and dead-lettered, per namespace. */
  settled(
    partition: number,
    outcome: BatchOutcome,
    counts: {
      written?: NamespaceCounts;
      duplicates?: NamespaceCounts;
      deadLettered?: NamespaceCounts;
    } = {},
  ): void {
    const p = { 'tributary.partition': partition };
    // The batch's process span says how it ended; a batch that failed is marked.
    const span = trace.getActiveSpan();
    span?.setAttribute('tributary.batch.outcome', outcome);
    if (outcome === 'dead_lettered' || outcome === 'retried')
      span?.setStatus({
        code: SpanStatusCode.ERROR,
        message: `batch ${outcome.replace('_', ' ')}`,
      });
    this.#batches.add(`${partition}\u0000${outcome}`, () => ({
      ...p,
      'tributary.batch.outcome': outcome,
    }));
    for (const [tally, byNamespace] of [
      [this.#written, counts.written],
      [this.#duplicates, counts.duplicates],
      [this.#deadLettered, counts.deadLettered],
    ] as const)
      for (const [key, { ns, events }] of byNamespace ?? [])
        tally.add(`${partition}\u0000${key}`, () => ({ ...p, ...ns }), events);
  }

  #timed<T>(
    histogram: Histogram,
    name: string,
    attributes: Attributes,
    work: () => Promise<T>,
    kind = SpanKind.INTERNAL,
  ): Promise<T> {
    const started = performance.now();
    const record = () => histogram.record((performance.now() - started) / 1000);
    const run = this.#o.tracing
      ? inSpan(this.#o.tracer, name, { kind, attributes }, () => work())
      : work();
    return run.finally(record);
  }

  #observe(meter: Meter, gauges: WriterGauges): void {
    const each = (
      definition: MetricDefinition,
      value: (p: OwnedPartition, now: number) => number | undefined,
    ) =>
      gaugeOf(meter, definition).addCallback((result) => {
        const now = Date.now();
        for (const owned of gauges.owned()) {
          const v = value(owned, now);
          if (v !== undefined) result.observe(v, { 'tributary.partition': owned.partition });
        }
      });
    each(METRICS.writerLag, (p, now) =>
      p.checkpointKey === undefined
        ? undefined
        : Math.max(0, now / 1000 - this.#o.timeOfKey(p.checkpointKey)),
    );
    each(METRICS.checkpointAge, (p, now) =>
      p.checkpointedAt === undefined ? undefined : Math.max(0, now - p.checkpointedAt) / 1000,
    );
    each(METRICS.gapAge, (p, now) =>
      p.gapSince === undefined ? undefined : Math.max(0, now - p.gapSince) / 1000,
    );
    gaugeOf(meter, METRICS.gapsOpen).addCallback((result) =>
      result.observe(gauges.owned().filter((p) => p.gapSince !== undefined).length),
    );
    gaugeOf(meter, METRICS.partitionsOwned).addCallback((result) =>
      result.observe(gauges.owned().length),
    );
    gaugeOf(meter, METRICS.inFlight).addCallback((result) =>
      result.observe(gauges.inFlight().bytes),
    );
  }
}
