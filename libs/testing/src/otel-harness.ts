import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AggregationTemporality, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

/**
 * A pull reader that collects only when the test asks (`collect()`), as a
 * Prometheus scrape does, with cumulative sums.
 */
export class OnDemandReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** Spans recorded in memory, with the context and propagation a service would have. */
export interface TestTracing {
  readonly exporter: InMemorySpanExporter;
  readonly provider: TracerProvider;
  /** Registers the async context manager and the W3C propagator (call in `beforeAll`). */
  register(): void;
  /** Unregisters them and shuts the provider down (call in `afterAll`). */
  close(): Promise<void>;
}

/** A tracer provider exporting to memory, for tests of code that makes spans. */
export function testTracing(): TestTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  return {
    exporter,
    provider,
    register() {
      const contextManager = new AsyncLocalStorageContextManager();
      contextManager.enable();
      context.setGlobalContextManager(contextManager);
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    },
    async close() {
      propagation.disable();
      context.disable();
      await provider.shutdown();
    },
  };
}
