import { createHistogram } from 'node:perf_hooks';
import type { LandedEvent } from './lake-tail.ts';

/** End-to-end figures over the events of one measurement window. */
export interface LagStats {
  /** Events counted (those the source recorded inside the window). */
  readonly events: number;
  /** Events that became visible in the lake during the window, per second. */
  readonly landedPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * Lag of each event recorded at the source in [`fromMs`, `toMs`): visible in
 * the lake minus source time. The rate counts what became visible in the
 * lake during the window, whenever it was produced: the pipeline's output,
 * so one that falls behind shows a lower rate than the load offered.
 */
export function lagStats(
  events: Iterable<LandedEvent>,
  window: { readonly fromMs: number; readonly toMs: number },
): LagStats {
  // HDR histogram from Node itself: integer milliseconds, three significant digits.
  const histogram = createHistogram();
  let count = 0;
  let visibleInWindow = 0;
  const inWindow = (ms: number) => ms >= window.fromMs && ms < window.toMs;
  for (const event of events) {
    if (inWindow(event.visibleAtMs)) visibleInWindow += 1;
    if (!inWindow(event.eventAtMs)) continue;
    histogram.record(Math.max(1, Math.round(event.visibleAtMs - event.eventAtMs)));
    count += 1;
  }
  const landedPerSecond = visibleInWindow / ((window.toMs - window.fromMs) / 1000);
  if (count === 0) return { events: 0, landedPerSecond, p50Ms: NaN, p99Ms: NaN, maxMs: NaN };
  return {
    events: count,
    landedPerSecond,
    p50Ms: histogram.percentile(50),
    p99Ms: histogram.percentile(99),
    maxMs: histogram.max,
  };
}
