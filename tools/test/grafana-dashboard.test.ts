import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCaptureConfig, loadWriterConfig } from '@tributary/core';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

/**
 * The series the services expose on /metrics, as documented (OpenTelemetry
 * names as the Prometheus exporter writes them). Written out here rather than
 * read from the services, so a renamed instrument shows up as a broken panel.
 */
const COUNTERS = [
  'tributary_capture_events_captured_total',
  'tributary_capture_events_published_total',
  'tributary_capture_batches_published_total',
  'tributary_capture_rewinds_total',
  'tributary_writer_events_written_total',
  'tributary_writer_events_duplicates_total',
  'tributary_writer_events_dead_lettered_total',
  'tributary_writer_batches_total',
];
const GAUGES = [
  'tributary_capture_backlog',
  'tributary_capture_paused',
  'tributary_capture_lag',
  'tributary_capture_resume_point_age',
  'tributary_capture_resume_point_headroom',
  'tributary_writer_lag',
  'tributary_writer_checkpoint_age',
  'tributary_writer_gap_age',
  'tributary_writer_gaps_open',
  'tributary_writer_partitions_owned',
  'tributary_writer_in_flight_size',
  'process_memory_usage',
  'v8js_memory_heap_used',
];
/** Exposed as `<name>_bucket`, `<name>_sum` and `<name>_count`. */
const HISTOGRAMS = [
  'tributary_batch_events',
  'tributary_batch_size',
  'tributary_capture_publish_duration',
  'tributary_writer_append_duration',
  'tributary_writer_flush_duration',
  'tributary_writer_checkpoint_duration',
  'tributary_writer_ack_duration',
  'tributary_writer_flushed_lag',
];
/** The attributes of those series that match the identifier pattern below. */
const LABELS = [
  'tributary_partition',
  'tributary_batch_kind',
  'tributary_batch_outcome',
  'tributary_rewind_reason',
];

const IDENTIFIER = /\b(tributary_[a-z_]+|process_memory_usage|v8js_memory_heap_used)\b/g;
const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

/** The metric a series name belongs to: a histogram's `_bucket`, `_sum` and `_count` are its own. */
function metricOf(series: string): string {
  const histogram = series.replace(HISTOGRAM_SERIES, '');
  return histogram !== series && HISTOGRAMS.includes(histogram) ? histogram : series;
}

/**
 * The Tributary names an expression uses, split into metrics and labels:
 * what stands in a `{…}` selector or a `by`/`without (…)` clause is a label.
 */
function namesIn(expr: string): { metrics: string[]; labels: string[] } {
  const labelParts: string[] = [];
  const rest = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}|\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, (m) => {
      labelParts.push(m);
      return ' ';
    });
  const names = (text: string) => [...text.matchAll(IDENTIFIER)].map((m) => m[1] as string);
  return { metrics: names(rest).map(metricOf), labels: labelParts.flatMap(names) };
}

/** Whether every bracket of an expression closes, in order (no PromQL parser is installed). */
function bracketsBalance(expr: string): boolean {
  const open: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (const c of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
    if ('([{'.includes(c)) open.push(c);
    else if (c in pairs && open.pop() !== pairs[c]) return false;
  }
  return open.length === 0;
}

/** The entries of `record` named `key`: none when it has no such entry. */
function pick(record: Record<string, string> | undefined, key: string): Record<string, string> {
  const value = record?.[key];
  return value === undefined ? {} : { [key]: value };
}

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title?: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: {
    list: { name: string; type: string; query: string; current: { value: string } }[];
  };
}

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(read('deploy/grafana/tributary-dashboard.json')) as Dashboard;
  // Rows may hold their panels when collapsed.
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const queried = panels.filter((p) => p.type !== 'row');
  const targets = queried.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, target: t })));

  it('is the Tributary overview, in the schema Grafana 11 writes', () => {
    expect(dashboard).toMatchObject({
      uid: 'tributary-overview',
      title: 'Tributary',
      schemaVersion: 39,
    });
  });

  it('gives every panel a title and an id no other panel has', () => {
    for (const panel of panels) expect(panel.title?.trim(), `panel ${panel.id}`).toBeTruthy();
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('groups its panels under rows', () => {
    expect(dashboard.panels[0]?.type).toBe('row');
    expect(panels.filter((p) => p.type === 'row').length).toBeGreaterThan(1);
  });

  it('queries something in every panel, through the DS_PROMETHEUS variable', () => {
    for (const panel of queried) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      expect(panel.datasource, panel.title).toEqual({
        type: 'prometheus',
        uid: '${DS_PROMETHEUS}',
      });
      for (const target of panel.targets ?? [])
        expect(target.datasource?.uid, `${panel.title} ${target.refId}`).toBe('${DS_PROMETHEUS}');
    }
  });

  it('uses only metrics and labels the services expose', () => {
    const metrics = new Set([...COUNTERS, ...GAUGES, ...HISTOGRAMS]);
    for (const { panel, target } of targets) {
      const where = `${panel.title} ${target.refId}: ${target.expr}`;
      expect(bracketsBalance(target.expr), where).toBe(true);
      const used = namesIn(target.expr);
      expect(used.metrics.length, where).toBeGreaterThan(0);
      for (const name of used.metrics)
        expect(metrics.has(name), `${where} uses ${name}`).toBe(true);
      for (const name of used.labels) expect(LABELS, `${where} uses ${name}`).toContain(name);
    }
  });

  it('reads histograms through their buckets, sums or counts only', () => {
    for (const { panel, target } of targets) {
      for (const name of HISTOGRAMS)
        expect(target.expr, `${panel.title} ${target.refId}`).not.toMatch(
          new RegExp(`\\b${name}\\b(?!_(bucket|sum|count)\\b)`),
        );
    }
  });

  it('takes a histogram quantile from a rate of buckets summed by le', () => {
    const quantiles = targets.filter(({ target }) => target.expr.includes('histogram_quantile'));
    expect(quantiles.length).toBeGreaterThan(0);
    for (const { panel, target } of quantiles)
      expect(target.expr, panel.title).toMatch(
        /histogram_quantile\(0?\.\d+, sum by \(le\) \(rate\([a-z0-9_]+_bucket\[\$__rate_interval\]\)\)\)/,
      );
  });

  it('defaults its datasource variable to the provisioned Prometheus datasource', () => {
    const provisioned = parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { name: string; type: string; uid: string; url: string; isDefault: boolean }[];
    };
    expect(provisioned.datasources).toEqual([
      expect.objectContaining({
        name: 'Prometheus',
        type: 'prometheus',
        uid: 'prometheus',
        url: 'http://prometheus:9090',
        isDefault: true,
      }),
    ]);
    const variable = dashboard.templating.list.find((v) => v.name === 'DS_PROMETHEUS');
    expect(variable).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variable?.current.value).toBe(provisioned.datasources[0]?.uid);
  });
});

describe('the Prometheus and Grafana of the local stack', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, { volumes?: string[]; environment?: Record<string, string> }>;
  };
  /**
   * The health port (of /metrics) a service listens on in the stack: its
   * TRIBUTARY_HEALTH_PORT there, or the setting's default.
   */
  const healthPortOf = (service: 'capture' | 'writer') => {
    const env = {
      MONGODB_URI: 'mongodb://mongodb:27017/?replicaSet=rs0',
      REDIS_URL: 'redis://redis:6379',
      ...pick(compose.services[service]?.environment, 'TRIBUTARY_HEALTH_PORT'),
    };
    return (service === 'capture' ? loadCaptureConfig(env) : loadWriterConfig(env)).healthPort;
  };
  /** Where a service mounts a file or folder of the repository (`./path:/target[:ro]`). */
  const mountOf = (service: string, path: string) =>
    compose.services[service]?.volumes?.find((v) => v.startsWith(`./${path}:`))?.split(':')[1];

  const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as {
    global: { scrape_interval: string };
    scrape_configs: {
      job_name: string;
      static_configs?: { targets: string[] }[];
      dns_sd_configs?: { names: string[]; type: string; port: number }[];
    }[];
  };
  const job = (name: string) => prometheus.scrape_configs.find((j) => j.job_name === name);

  it('scrapes capture and writer every 5 seconds', () => {
    expect(prometheus.global.scrape_interval).toBe('5s');
    expect(prometheus.scrape_configs.map((j) => j.job_name).sort()).toEqual(['capture', 'writer']);
  });

  it('scrapes capture on its health port, which serves /metrics', () => {
    expect(job('capture')?.static_configs).toEqual([
      { targets: [`capture:${healthPortOf('capture')}`] },
    ]);
  });

  it('scrapes every writer replica (one DNS A record each) on their health port', () => {
    expect(job('writer')?.dns_sd_configs).toEqual([
      expect.objectContaining({ names: ['writer'], type: 'A', port: healthPortOf('writer') }),
    ]);
  });

  it('gives Prometheus its configuration file, read-only', () => {
    const mount = compose.services.prometheus?.volumes?.find((v) =>
      v.startsWith('./deploy/prometheus/prometheus.yml:'),
    );
    expect(mount).toBe('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  });

  it('mounts the dashboard where the provisioned dashboard provider looks', () => {
    const providers = parse(read('deploy/grafana/provisioning/dashboards/tributary.yml')) as {
      providers: { type: string; options: { path: string } }[];
    };
    expect(providers.providers.map((p) => p.type)).toEqual(['file']);
    const folder = providers.providers[0]?.options.path;
    expect(folder).toBe('/var/lib/grafana/dashboards');
    expect(mountOf('grafana', 'deploy/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    expect(mountOf('grafana', 'deploy/grafana/tributary-dashboard.json')).toBe(
      `${folder}/tributary-dashboard.json`,
    );
  });
});
