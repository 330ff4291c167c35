import type { Attributes } from '@opentelemetry/api';
import { DataPointType, MeterProvider, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { OnDemandReader } from '@tributary/testing/otel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Tally } from '../src/otel/tally.ts';

describe('a tally', () => {
  let reader: OnDemandReader;
  let provider: MeterProvider;

  beforeEach(() => {
    reader = new OnDemandReader();
    provider = new MeterProvider({ readers: [reader] });
  });
  afterEach(async () => provider.shutdown());

  /** What a collection reports for `name`: each label set with its value. */
  async function collected(name: string): Promise<Array<[Attributes, number]>> {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const metric = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((m) => m.descriptor.name === name) as SumMetricData | undefined;
    if (!metric) return [];
    expect(metric.dataPointType).toBe(DataPointType.SUM);
    expect(metric.isMonotonic).toBe(true);
    return metric.dataPoints
      .map((p): [Attributes, number] => [p.attributes, p.value])
      .sort(([a], [b]) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  }

  it('reports nothing until something is counted', async () => {
    new Tally(provider.getMeter('test'), 'tributary.events', {
      description: 'events',
      unit: '{event}',
    });
    expect(await collected('tributary.events')).toEqual([]);
  });

  it('accumulates counts per label set as a monotonic counter', async () => {
    const tally = new Tally(provider.getMeter('test'), 'tributary.events', {
      description: 'events captured',
      unit: '{event}',
    });
    tally.add('shop.orders', () => ({ 'db.namespace': 'shop', 'db.collection.name': 'orders' }));
    tally.add('shop.orders', () => ({ 'db.namespace': 'shop', 'db.collection.name': 'orders' }), 4);
    tally.add('shop.users', () => ({ 'db.namespace': 'shop', 'db.collection.name': 'users' }), 2);

    expect(await collected('tributary.events')).toEqual([
      [{ 'db.namespace': 'shop', 'db.collection.name': 'orders' }, 5],
      [{ 'db.namespace': 'shop', 'db.collection.name': 'users' }, 2],
    ]);
  });

  it('keeps counting across collections, cumulatively', async () => {
    const tally = new Tally(provider.getMeter('test'), 'tributary.batches', {
      description: 'batches',
      unit: '{batch}',
    });
    tally.add('p0', () => ({ partition: 0 }), 3);
    expect(await collected('tributary.batches')).toEqual([[{ partition: 0 }, 3]]);
    tally.add('p0', () => ({ partition: 0 }), 2);
    tally.add('p1', () => ({ partition: 1 }));
    expect(await collected('tributary.batches')).toEqual([
      [{ partition: 0 }, 5],
      [{ partition: 1 }, 1],
    ]);
  });

  it('builds the attributes of a label set once, the first time its key is seen', async () => {
    const tally = new Tally(provider.getMeter('test'), 'tributary.events', {
      description: 'events',
      unit: '{event}',
    });
    const orders = vi.fn(() => ({ collection: 'orders' }));
    const users = vi.fn(() => ({ collection: 'users' }));
    for (let i = 0; i < 5; i++) tally.add('orders', orders);
    tally.add('users', users, 7);
    tally.add('users', users);

    expect(orders).toHaveBeenCalledTimes(1);
    expect(users).toHaveBeenCalledTimes(1);
    expect(await collected('tributary.events')).toEqual([
      [{ collection: 'orders' }, 5],
      [{ collection: 'users' }, 8],
    ]);
  });

  it('carries its description and unit to the exported metric', async () => {
    const tally = new Tally(provider.getMeter('test'), 'tributary.bytes', {
      description: 'bytes written to the lake',
      unit: 'By',
    });
    tally.add('all', () => ({}), 1024);
    const { resourceMetrics } = await reader.collect();
    const [metric] = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    expect(metric?.descriptor).toMatchObject({
      name: 'tributary.bytes',
      description: 'bytes written to the lake',
      unit: 'By',
    });
  });
});
