import parsePrometheus, { type ParsedFamily } from 'parse-prometheus-text-format';
import { METRICS, type MetricDefinition, prometheusName } from '@tributary/telemetry';
import { afterEach, expect, it } from 'vitest';
import { freePort, probe } from '../src/health.ts';
import { Pipeline } from '../src/pipeline.ts';
import { describeOnTransports } from '../src/transports.ts';

/** One scrape of a service's `/metrics`, parsed by a Prometheus text-format parser. */
class Scrape {
  readonly families: readonly ParsedFamily[];

  constructor(families: readonly ParsedFamily[]) {
    this.families = families;
  }

  static async of(port: number): Promise<Scrape> {
    const answer = await probe(port, '/metrics');
    if (answer?.status !== 200) throw new Error(`/metrics on ${port}: ${JSON.stringify(answer)}`);
    return new Scrape(parsePrometheus(answer.body));
  }

  /** The samples of `name` whose labels include `labels`. */
  values(name: string, labels: Record<string, string> = {}): number[] {
    const family = this.families.find((f) => f.name === name);
    return (family?.metrics ?? [])
      .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
      .map((m) => Number(m.value));
  }

  /** The sum of `name`'s samples whose labels include `labels` (0 when there are none). */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.values(name, labels).reduce((a, b) => a + b, 0);
  }
}

/** Scrapes `port` until `accept` holds; throws with the last scrape's values of `name` after `timeoutMs`. */
async function untilScrape(
  port: number,
  name: string,
  accept: (scrape: Scrape) => boolean,
  timeoutMs = 30_000,
): Promise<Scrape> {
  const started = Date.now();
  for (;;) {
    const scrape = await Scrape.of(port);
    if (accept(scrape)) return scrape;
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `${name} did not reach the expected value: ${scrape.values(name).join(', ')}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The metrics the README documents for `service` that every scrape shows (the others appear once they have something to report). */
function alwaysShown(service: 'capture' | 'writer'): string[] {
  return Object.values(METRICS as Record<string, MetricDefinition>)
    .filter((m) => (m.service === service || m.service === 'both') && !m.conditional)
    .map(prometheusName)
    .sort();
}

describeOnTransports('metrics', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('move with the load, show lag while writers are stopped, and count a dead letter', async () => {
    pipeline = await Pipeline.start({ transport, lake: 'adls' });
    const capturePort = await freePort();
    await pipeline.startCapture({ TRIBUTARY_HEALTH_PORT: String(capturePort) });
    const firstWriterPort = await freePort();
    const first = pipeline.startWriter('w1', { TRIBUTARY_HEALTH_PORT: String(firstWriterPort) });

    // Counters move with the load.
    const load = pipeline.startLoad(12);
    await load.reach(3);
    const early = await untilScrape(
      capturePort,
      'tributary_capture_events_captured_total',
      (s) => s.sum('tributary_capture_events_captured_total') > 0,
    );
    await load.done;
    const { comparison, inventory } = await pipeline.waitUntilComplete();
    expect(comparison.missing).toEqual([]);
    const source = pipeline.sourceTokens().length;
    const capture = await Scrape.of(capturePort);
    const captured = capture.sum('tributary_capture_events_captured_total');
    expect(captured).toBeGreaterThan(early.sum('tributary_capture_events_captured_total'));
    // Against the source's own record: every event it logged, captured and published once.
    expect(captured).toBe(source);
    expect(capture.sum('tributary_capture_events_published_total')).toBe(source);
    expect(
      capture.sum('tributary_capture_events_captured_total', {
        db_namespace: 'shop',
        db_collection_name: 'orders',
      }),
    ).toBe(pipeline.mongo.oplogEntries().filter((r) => r.ns.coll === 'orders').length);
    // Against the lake: the one writer wrote every line there is.
    const writer = await Scrape.of(firstWriterPort);
    expect(writer.sum('tributary_writer_events_written_total')).toBe(inventory.lines);
    expect(writer.sum('tributary_writer_partitions_owned')).toBe(8);
    expect(capture.sum('process_memory_usage')).toBeGreaterThan(0);
    // Every metric the README's table documents is there, under the name it gives.
    for (const [scrape, service] of [
      [capture, 'capture'],
      [writer, 'writer'],
    ] as const) {
      const names = new Set(scrape.families.map((f) => f.name));
      expect(alwaysShown(service).filter((name) => !names.has(name))).toEqual([]);
    }

    // Where the resume point stands in the oplog window (the emulator serves local.oplog.rs).
    const headroom = 'tributary_capture_resume_point_headroom';
    const window = await untilScrape(capturePort, headroom, (s) => s.values(headroom).length > 0);
    expect(window.values(headroom)[0]).toBeGreaterThanOrEqual(0);
    expect(window.values(headroom)[0]).toBeLessThanOrEqual(1);

    // With the writers stopped, the lag of a partition with new events grows…
    await first.stop();
    const partition = String(pipeline.partitionOfCollection('shop', 'orders'));
    const more = pipeline.startLoad(3);
    const lagging = await untilScrape(
      capturePort,
      'tributary_capture_lag',
      (s) => (s.values('tributary_capture_lag', { tributary_partition: partition })[0] ?? 0) > 0,
    );
    const lagBefore = lagging.values('tributary_capture_lag', {
      tributary_partition: partition,
    })[0];
    await more.done;
    await new Promise((r) => setTimeout(r, 1500));
    const later = await Scrape.of(capturePort);
    const lagAfter = later.values('tributary_capture_lag', { tributary_partition: partition })[0];
    expect(lagAfter).toBeGreaterThan(lagBefore ?? 0);
    expect(later.sum('tributary_capture_backlog')).toBeGreaterThan(0);

    // …and falls back to nothing once a writer is back.
    const secondWriterPort = await freePort();
    pipeline.startWriter('w2', { TRIBUTARY_HEALTH_PORT: String(secondWriterPort) });
    await untilScrape(capturePort, 'tributary_capture_lag', (s) =>
      s.values('tributary_capture_lag').every((lag) => lag === 0),
    );
    await pipeline.waitUntilComplete();

    // A poison batch moves the dead-letter counter, as the queue's dead letters say.
    const queue = pipeline.transport();
    await queue.publisher().publish({
      partition: Number(partition),
      generation: 1,
      sequence: 0,
      body: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
    });
    const outcome = { tributary_batch_outcome: 'dead_lettered' };
    const dead = await untilScrape(
      secondWriterPort,
      'tributary_writer_batches_total',
      (s) => s.sum('tributary_writer_batches_total', outcome) > 0,
    );
    expect(dead.sum('tributary_writer_batches_total', outcome)).toBe(1);
    expect(await queue.deadLetters().count()).toBe(1);
  });
});
