import type { Histogram, Meter, ObservableGauge } from '@opentelemetry/api';
import { Tally } from './tally.ts';

/**
 * One metric Tributary exports, declared once: the services create their
 * instruments from it and the README's metrics table is rendered from it
 * (`npm run docs`). Names and units follow the OpenTelemetry conventions
 * (dotted names, UCUM units, no unit in the name); the Prometheus
 * exposition turns dots into underscores and adds `_total` to counters.
 *
 * @see https://opentelemetry.io/docs/specs/semconv/general/metrics/
 */
export interface MetricDefinition {
  readonly name: string;
  readonly instrument: 'counter' | 'gauge' | 'histogram';
  /** UCUM: `s`, `By`, `1`, or a `{thing}` count. */
  readonly unit: string;
  readonly description: string;
  /** Labels (attributes) its samples carry. */
  readonly attributes: readonly string[];
  readonly service: 'capture' | 'writer' | 'both';
  /** Histogram bucket boundaries, in the metric's unit. */
  readonly buckets?: readonly number[];
  /** Present only once what it counts has happened, or only where the source reports it. */
  readonly conditional?: boolean;
}

/** Bucket boundaries (seconds) of latency histograms: the SDK's defaults are for milliseconds. */
export const LATENCY_BUCKETS_S = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Bucket boundaries (seconds) of lag histograms: from sub-second to an hour. */
export const LAG_BUCKETS_S = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600];

const BY_NAMESPACE = ['tributary.partition', 'db.namespace', 'db.collection.name'];
const PARTITION = ['tributary.partition'];

function metric(definition: MetricDefinition): MetricDefinition {
  return definition;
}

/** Every metric of both services. */
export const METRICS = {
  captured: metric({
    name: 'tributary.capture.events.captured',
    instrument: 'counter',
    unit: '{event}',
    description:
      'Change events read from the change stream and routed to a partition (again when capture re-reads after a rewind).',
    attributes: BY_NAMESPACE,
    service: 'capture',
  }),
  published: metric({
    name: 'tributary.capture.events.published',
    instrument: 'counter',
    unit: '{event}',
    description:
      'Change events published to the queue (again after a rewind). An event too large for a message travels by claim check and is counted here with empty namespace labels.',
    attributes: BY_NAMESPACE,
    service: 'capture',
  }),
  batchesPublished: metric({
    name: 'tributary.capture.batches.published',
    instrument: 'counter',
    unit: '{batch}',
    description:
      'Batches published: `events`, or `heartbeat` (also the probes of stalled partitions).',
    attributes: ['tributary.partition', 'tributary.batch.kind'],
    service: 'capture',
  }),
  rewinds: metric({
    name: 'tributary.capture.rewinds',
    instrument: 'counter',
    unit: '{partition}',
    description:
      'Partitions re-read from their checkpoints because batches were lost from the queue: `queue_emptied` (Redis restarted empty) or `gap_reported` (a writer saw a gap). Each is a gap being healed.',
    attributes: ['tributary.rewind.reason'],
    service: 'capture',
    conditional: true,
  }),
  batchEvents: metric({
    name: 'tributary.batch.events',
    instrument: 'histogram',
    unit: '{event}',
    description: 'Events per published batch.',
    attributes: [],
    service: 'capture',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000],
  }),
  batchBytes: metric({
    name: 'tributary.batch.size',
    instrument: 'histogram',
    unit: 'By',
    description: 'Encoded size of each published batch.',
    attributes: [],
    service: 'capture',
    buckets: [1024, 16384, 65536, 262144, 1048576, 4194304, 16777216],
  }),
  publishDuration: metric({
    name: 'tributary.capture.publish.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'Time to put one batch on the queue, waits for an unavailable queue included.',
    attributes: [],
    service: 'capture',
    buckets: LATENCY_BUCKETS_S,
  }),
  backlog: metric({
    name: 'tributary.capture.backlog',
    instrument: 'gauge',
    unit: '{batch}',
    description:
      'Batches published that no checkpoint covers yet: what the writers still have to do. Capture pauses at TRIBUTARY_QUEUE_HIGH_WATER_MARK. The measure to scale writers on.',
    attributes: [],
    service: 'capture',
  }),
  paused: metric({
    name: 'tributary.capture.paused',
    instrument: 'gauge',
    unit: '1',
    description: '1 while capture reads nothing because the backlog is at its high-water mark.',
    attributes: [],
    service: 'capture',
  }),
  lag: metric({
    name: 'tributary.capture.lag',
    instrument: 'gauge',
    unit: 's',
    description:
      'End-to-end lag per partition: now minus the clusterTime of the oldest event published to it that no checkpoint covers yet (not yet flushed to the lake); 0 when the partition is caught up. Grows while writers are stopped.',
    attributes: PARTITION,
    service: 'capture',
  }),
  resumePointAge: metric({
    name: 'tributary.capture.resume_point.age',
    instrument: 'gauge',
    unit: 's',
    description:
      'Now minus the clusterTime capture would resume from after a restart (the oldest partition checkpoint; heartbeats keep it moving while the source is quiet).',
    attributes: [],
    service: 'capture',
    conditional: true,
  }),
  resumePointHeadroom: metric({
    name: 'tributary.capture.resume_point.headroom',
    instrument: 'gauge',
    unit: '1',
    description:
      'Where the resume point stands in the oplog window: 1 at its newest entry, 0 at its oldest (below that, history is lost and capture cannot resume). Only where the source lets capture read its oplog’s bounds.',
    attributes: [],
    service: 'capture',
    conditional: true,
  }),
  written: metric({
    name: 'tributary.writer.events.written',
    instrument: 'counter',
    unit: '{event}',
    description: 'Change events written to the lake (flushed and checkpointed; each exactly once).',
    attributes: BY_NAMESPACE,
    service: 'writer',
  }),
  duplicates: metric({
    name: 'tributary.writer.events.duplicates',
    instrument: 'counter',
    unit: '{event}',
    description:
      'Events received that the lake already had (redeliveries, batches re-sent after a rewind): dropped.',
    attributes: BY_NAMESPACE,
    service: 'writer',
    conditional: true,
  }),
  deadLettered: metric({
    name: 'tributary.writer.events.dead_lettered',
    instrument: 'counter',
    unit: '{event}',
    description:
      'Events of batches moved to the dead letters that did not reach the lake (an undecodable batch counts 0 here and 1 in tributary.writer.batches).',
    attributes: BY_NAMESPACE,
    service: 'writer',
    conditional: true,
  }),
  batches: metric({
    name: 'tributary.writer.batches',
    instrument: 'counter',
    unit: '{batch}',
    description:
      'Batches handled, by outcome: `written`, `replayed` (a requeued dead letter behind the checkpoint), `dead_lettered`, `dropped_after_gap` (capture re-sends them), `retried`.',
    attributes: ['tributary.partition', 'tributary.batch.outcome'],
    service: 'writer',
  }),
  appendDuration: metric({
    name: 'tributary.writer.append.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'Writing one batch’s events to their files, the flushes included.',
    attributes: [],
    service: 'writer',
    buckets: LATENCY_BUCKETS_S,
  }),
  flushDuration: metric({
    name: 'tributary.writer.flush.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'One file’s append and flush of a batch’s lines in the lake.',
    attributes: [],
    service: 'writer',
    buckets: LATENCY_BUCKETS_S,
  }),
  checkpointDuration: metric({
    name: 'tributary.writer.checkpoint.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'Storing the checkpoint that covers a batch.',
    attributes: [],
    service: 'writer',
    buckets: LATENCY_BUCKETS_S,
  }),
  ackDuration: metric({
    name: 'tributary.writer.ack.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'Acknowledging a batch to the queue (after its checkpoint).',
    attributes: [],
    service: 'writer',
    buckets: LATENCY_BUCKETS_S,
  }),
  flushedLag: metric({
    name: 'tributary.writer.flushed.lag',
    instrument: 'histogram',
    unit: 's',
    description: 'At each checkpoint: now minus the clusterTime of the last event it covers.',
    attributes: [],
    service: 'writer',
    buckets: LAG_BUCKETS_S,
  }),
  writerLag: metric({
    name: 'tributary.writer.lag',
    instrument: 'gauge',
    unit: 's',
    description:
      'Per owned partition: now minus the clusterTime of the last event flushed and checkpointed. Grows while the source is quiet too; alert on tributary.capture.lag.',
    attributes: PARTITION,
    service: 'writer',
  }),
  checkpointAge: metric({
    name: 'tributary.writer.checkpoint.age',
    instrument: 'gauge',
    unit: 's',
    description:
      'Per owned partition: time since its last checkpoint was stored (heartbeats store one at least every TRIBUTARY_HEARTBEAT_INTERVAL_MS while capture runs).',
    attributes: PARTITION,
    service: 'writer',
    conditional: true,
  }),
  gapAge: metric({
    name: 'tributary.writer.gap.age',
    instrument: 'gauge',
    unit: 's',
    description:
      'Per owned partition waiting for capture to re-send batches lost from the queue: for how long.',
    attributes: PARTITION,
    service: 'writer',
    conditional: true,
  }),
  gapsOpen: metric({
    name: 'tributary.writer.gaps.open',
    instrument: 'gauge',
    unit: '{partition}',
    description: 'Owned partitions healing a gap (batches lost from the queue, being re-sent).',
    attributes: [],
    service: 'writer',
  }),
  partitionsOwned: metric({
    name: 'tributary.writer.partitions.owned',
    instrument: 'gauge',
    unit: '{partition}',
    description: 'Partitions this writer owns.',
    attributes: [],
    service: 'writer',
  }),
  inFlight: metric({
    name: 'tributary.writer.in_flight.size',
    instrument: 'gauge',
    unit: 'By',
    description: 'Bytes of batches held in memory (bounded by TRIBUTARY_MAX_BUFFERED_BYTES).',
    attributes: [],
    service: 'writer',
  }),
  memory: metric({
    name: 'process.memory.usage',
    instrument: 'gauge',
    unit: 'By',
    description: 'Resident set size of the process (OpenTelemetry process conventions).',
    attributes: [],
    service: 'both',
  }),
  heap: metric({
    name: 'v8js.memory.heap.used',
    instrument: 'gauge',
    unit: 'By',
    description: 'V8 heap in use.',
    attributes: [],
    service: 'both',
  }),
} as const;

/** The name a Prometheus scrape shows (histograms add `_bucket`, `_sum` and `_count`). */
export function prometheusName(definition: MetricDefinition): string {
  const name = definition.name.replaceAll('.', '_');
  return definition.instrument === 'counter' ? `${name}_total` : name;
}

/** A monotonic count per label set (see {@link Tally}). */
export function tallyOf(meter: Meter, definition: MetricDefinition): Tally {
  return new Tally(meter, definition.name, {
    description: definition.description,
    unit: definition.unit,
  });
}

/** A histogram with the definition's buckets. */
export function histogramOf(meter: Meter, definition: MetricDefinition): Histogram {
  return meter.createHistogram(definition.name, {
    description: definition.description,
    unit: definition.unit,
    ...(definition.buckets
      ? { advice: { explicitBucketBoundaries: [...definition.buckets] } }
      : {}),
  });
}

/** An observable gauge, read when metrics are collected. */
export function gaugeOf(meter: Meter, definition: MetricDefinition): ObservableGauge {
  return meter.createObservableGauge(definition.name, {
    description: definition.description,
    unit: definition.unit,
  });
}

/**
 * The README's metrics table: Prometheus name, type, unit, labels, meaning,
 * for one service.
 */
export function renderMetricsTable(service: 'capture' | 'writer'): string {
  const rows = Object.values(METRICS as Record<string, MetricDefinition>)
    .filter((m) => m.service === service || m.service === 'both')
    .map((m) => {
      const labels = m.attributes.map((a) => `\`${a.replaceAll('.', '_')}\``).join(', ') || '—';
      const note = m.conditional ? ' (Appears once it has something to report.)' : '';
      return `| \`${prometheusName(m)}\` | ${m.instrument} | \`${m.unit}\` | ${labels} | ${m.description}${note} |`;
    });
  return ['| metric | type | unit | labels | meaning |', '|---|---|---|---|---|', ...rows].join(
    '\n',
  );
}
