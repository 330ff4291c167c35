import { type Attributes, type Context, type Link, type SpanKind, trace } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  type SamplingResult,
  SamplingDecision,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';
import type { TelemetryConfig } from '@tributary/core';

/** The attribute every Tributary span that may start a trace carries. */
export const TRACE_ROOT_ATTRIBUTE = 'tributary.partition';

/**
 * Lets only Tributary's own spans start a trace: a batch (`capture batch`,
 * or `process` when the batch carries no context), or a closing flush. A
 * library's span without a parent — the Service Bus SDK renewing a session
 * lock, BullMQ counting a queue, a writer's receive that brought nothing —
 * is dropped, so an idle pipeline makes no traces and a busy one makes one
 * per batch. Everything else is decided by the configured sampler
 * (`OTEL_TRACES_SAMPLER`).
 */
export class BatchRootsSampler implements Sampler {
  readonly #inner: Sampler;

  constructor(inner: Sampler) {
    this.#inner = inner;
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    if (!trace.getSpanContext(context) && attributes[TRACE_ROOT_ATTRIBUTE] === undefined)
      return { decision: SamplingDecision.NOT_RECORD };
    return this.#inner.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `BatchRootsSampler{${this.#inner.toString()}}`;
  }
}

/** The sampler `OTEL_TRACES_SAMPLER` names (the specification's built-in ones), inside {@link BatchRootsSampler}. */
export function samplerOf(config: TelemetryConfig): Sampler {
  const ratio = config.tracesSamplerArg === undefined ? 1 : Number(config.tracesSamplerArg);
  const inner = ((): Sampler => {
    switch (config.tracesSampler ?? 'parentbased_always_on') {
      case 'always_on':
        return new AlwaysOnSampler();
      case 'always_off':
        return new AlwaysOffSampler();
      case 'traceidratio':
        return new TraceIdRatioBasedSampler(ratio);
      case 'parentbased_always_off':
        return new ParentBasedSampler({ root: new AlwaysOffSampler() });
      case 'parentbased_traceidratio':
        return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
      default:
        return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    }
  })();
  return new BatchRootsSampler(inner);
}
