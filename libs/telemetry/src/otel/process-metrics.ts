import type { Meter } from '@opentelemetry/api';
import { METRICS, gaugeOf } from './metric-catalog.ts';

/**
 * The process's resident memory (`process.memory.usage`, as the
 * OpenTelemetry process conventions name it) and the V8 heap in use: what
 * Tributary's bounded-memory guarantee is watched by.
 *
 * @see https://opentelemetry.io/docs/specs/semconv/system/process-metrics/
 */
export function observeProcessMemory(meter: Meter): void {
  gaugeOf(meter, METRICS.memory).addCallback((result) => result.observe(process.memoryUsage.rss()));
  gaugeOf(meter, METRICS.heap).addCallback((result) =>
    result.observe(process.memoryUsage().heapUsed),
  );
}
