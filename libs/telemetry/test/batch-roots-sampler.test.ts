import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { samplerOf } from '../src/otel/batch-roots-sampler.ts';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const parent = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: TRACE_ID,
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
});
const unsampledParent = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: TRACE_ID,
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.NONE,
  isRemote: true,
});

function decide(
  config: Parameters<typeof samplerOf>[0],
  context: typeof ROOT_CONTEXT,
  attributes: Record<string, number>,
): SamplingDecision {
  return samplerOf(config).shouldSample(
    context,
    TRACE_ID,
    'span',
    SpanKind.INTERNAL,
    attributes,
    [],
  ).decision;
}

const RECORD = SamplingDecision.RECORD_AND_SAMPLED;
const DROP = SamplingDecision.NOT_RECORD;
const batch = { 'tributary.partition': 3 };

describe('which spans are traced', () => {
  it.each([
    ['a batch span starts a trace', {}, ROOT_CONTEXT, batch, RECORD],
    [
      'a library span without a parent (a lock renewal, an idle receive) does not',
      {},
      ROOT_CONTEXT,
      {},
      DROP,
    ],
    ['a library span inside a batch is traced', {}, parent, {}, RECORD],
    ['the writer follows capture’s decision not to sample', {}, unsampledParent, batch, DROP],
    ['always_off traces no batch', { tracesSampler: 'always_off' }, ROOT_CONTEXT, batch, DROP],
    [
      'a ratio of 0 traces no batch',
      { tracesSampler: 'parentbased_traceidratio', tracesSamplerArg: '0' },
      ROOT_CONTEXT,
      batch,
      DROP,
    ],
    [
      'a ratio of 1 traces every batch',
      { tracesSampler: 'parentbased_traceidratio', tracesSamplerArg: '1' },
      ROOT_CONTEXT,
      batch,
      RECORD,
    ],
    [
      'a ratio sampler still follows a sampled parent',
      { tracesSampler: 'parentbased_traceidratio', tracesSamplerArg: '0' },
      parent,
      {},
      RECORD,
    ],
    [
      'always_on still drops parentless library spans',
      { tracesSampler: 'always_on' },
      ROOT_CONTEXT,
      {},
      DROP,
    ],
  ] as const)('%s', (_, config, context, attributes, expected) => {
    expect(decide(config, context, attributes)).toBe(expected);
  });
});
