import type { Meter } from '@opentelemetry/api';

/**
 * The process's resident memory (`process.memory.usage`, as the
 * OpenTelemetry process conventions name it) and the V8 heap in use: what
 * Tributary's bounded-memory guarantee is watched by.
 *
 * @see https://opentelemetry.io/docs/specs/semconv/system/process-metrics/
 */
export function observeProcessMemory(meter: Meter): void {
  meter
    .createObservableGauge('process.memory.usage', {
      description: 'Resident set size of the process.',
      unit: 'By',
    })
    .addCallback((result) => result.observe(process.memoryUsage.rss()));
  meter
    .createObservableGauge('v8js.memory.heap.used', {
      description: 'V8 heap in use.',
      unit: 'By',
    })
    .addCallback((result) => result.observe(process.memoryUsage().heapUsed));
}
