import type { FaultKind } from './chaos-fault.ts';
import { FAULT_KINDS } from './chaos-fault.ts';
import type { DeadLetterSighting } from './dead-letter-census.ts';
import type { Settled } from './settle.ts';

/** The counts the verdict is made of; the run passes when every one is 0. */
export interface ChaosCounts {
  readonly missing: number;
  readonly duplicated: number;
  readonly outOfOrder: number;
  readonly unexpected: number;
  /** Every dead letter is a false one: the chaos load has no poison input. */
  readonly falseDeadLetters: number;
  readonly misplaced: number;
  /** What `inventoryLake` finds wrong with files and lines. */
  readonly lakeProblems: number;
  /**
   * Deleted queued batches whose events (or those queued behind them) did
   * not reach the lake within the fault's bound: a gap that does not heal
   * would otherwise be hidden by the next capture or Redis restart, which
   * re-reads everything.
   */
  readonly unhealedGaps: number;
  /** Rounds whose fault the harness itself failed to inject or clean up after. */
  readonly harnessErrors: number;
}

/** Rounds of one fault kind and how long injecting them took (restarts included). */
export interface FaultTiming {
  readonly rounds: number;
  readonly landed: number;
  readonly totalMs: number;
  readonly maxMs: number;
}

/** Everything a chaos run found. */
export interface ChaosReport {
  readonly seed: number;
  /** The durable queue the run put under fire. */
  readonly transport: 'bullmq' | 'servicebus';
  readonly rounds: number;
  readonly roundsRun: number;
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly counts: ChaosCounts;
  readonly passed: boolean;
  readonly timings: ReadonlyMap<FaultKind, FaultTiming>;
  readonly deadLetters: readonly DeadLetterSighting[];
  /** Services that ended without being killed (restarted by the harness). */
  readonly crashes: readonly string[];
  readonly unhealedGaps: readonly string[];
  /** Partitions whose checkpoint stood still under load (diagnosis, not part of the verdict). */
  readonly stalls: readonly string[];
  readonly harnessErrors: readonly string[];
  readonly settled: Settled;
  /** Source events and load steps, for scale. */
  readonly produced: number;
  readonly loadSteps: number;
}

/** Collects per-kind timings round by round. */
export class FaultTimings {
  readonly #timings = new Map<FaultKind, FaultTiming>();

  record(kind: FaultKind, landed: boolean, ms: number): void {
    const t = this.#timings.get(kind) ?? { rounds: 0, landed: 0, totalMs: 0, maxMs: 0 };
    this.#timings.set(kind, {
      rounds: t.rounds + 1,
      landed: t.landed + (landed ? 1 : 0),
      totalMs: t.totalMs + ms,
      maxMs: Math.max(t.maxMs, ms),
    });
  }

  get all(): ReadonlyMap<FaultKind, FaultTiming> {
    return this.#timings;
  }
}

/** The counts of a run, from the final audit, the dead-letter census and the rounds. */
export function countsOf(
  settled: Settled,
  deadLetters: readonly DeadLetterSighting[],
  unhealedGaps: readonly string[],
  harnessErrors: readonly string[],
): ChaosCounts {
  const { audit } = settled;
  return {
    missing: audit.missing.length,
    duplicated: audit.duplicated.length,
    outOfOrder: audit.outOfOrder.length,
    unexpected: audit.unexpected.length,
    falseDeadLetters: deadLetters.length,
    misplaced: audit.misplaced.length,
    lakeProblems: audit.problems.length,
    unhealedGaps: unhealedGaps.length,
    harnessErrors: harnessErrors.length,
  };
}

/** True when every count is 0. */
export function passes(counts: ChaosCounts): boolean {
  return Object.values(counts).every((count) => count === 0);
}

/** The one verdict line. */
export function verdictLine(report: ChaosReport): string {
  const c = report.counts;
  return (
    `chaos verdict: ${report.passed ? 'PASS' : 'FAIL'} — missing ${c.missing}, duplicated ${c.duplicated}, ` +
    `out of order ${c.outOfOrder}, unexpected ${c.unexpected}, false dead letters ${c.falseDeadLetters}, ` +
    `misplaced ${c.misplaced}, lake problems ${c.lakeProblems}, unhealed gaps ${c.unhealedGaps}, ` +
    `harness errors ${c.harnessErrors} ` +
    `(${report.transport}, seed ${report.seed}, ${report.roundsRun}/${report.rounds} rounds, ${duration(report.durationMs)})`
  );
}

/** The report as printed at the end of a run: details first, the verdict line last. */
export function reportLines(report: ChaosReport): string[] {
  const { audit } = report.settled;
  const lines = [
    `lake: ${report.settled.why} (waited ${duration(report.settled.waitedMs)}); ` +
      `${audit.lines} lines for ${audit.produced} source events from ${report.loadSteps} load steps`,
  ];
  if (audit.missingByPartition.size > 0)
    lines.push(
      `missing by partition: ${[...audit.missingByPartition]
        .sort(([a], [b]) => a - b)
        .map(([p, n]) => `p${p} ${n}`)
        .join(', ')}`,
    );
  const examples = (label: string, items: readonly string[]) => {
    if (items.length > 0)
      lines.push(`${label} (first of ${items.length}): ${items.slice(0, 3).join(' | ')}`);
  };
  examples('duplicated', audit.duplicated);
  examples('out of order', audit.outOfOrder);
  examples('unexpected', audit.unexpected);
  examples('misplaced', audit.misplaced);
  examples('lake problems', audit.problems);
  for (const letter of report.deadLetters.slice(0, 10))
    lines.push(
      `false dead letter: partition ${letter.partition}, ${letter.id}, first seen after ${letter.firstSeen}: ${letter.reason.slice(0, 300)}`,
    );
  if (report.deadLetters.length > 10)
    lines.push(`… and ${report.deadLetters.length - 10} more dead letters`);
  for (const crash of report.crashes) lines.push(`crash: ${crash}`);
  for (const gap of report.unhealedGaps) lines.push(`unhealed gap: ${gap}`);
  for (const stall of report.stalls) lines.push(`stall: ${stall}`);
  for (const error of report.harnessErrors) lines.push(`harness error: ${error}`);
  lines.push('fault kind                      rounds  landed  mean      max');
  for (const kind of FAULT_KINDS) {
    const t = report.timings.get(kind);
    if (!t) continue;
    lines.push(
      `${kind.padEnd(31)} ${String(t.rounds).padStart(6)}  ${String(t.landed).padStart(6)}  ` +
        `${duration(t.totalMs / t.rounds).padEnd(8)}  ${duration(t.maxMs)}`,
    );
  }
  lines.push(`started ${report.startedAt.toISOString()}, took ${duration(report.durationMs)}`);
  lines.push(verdictLine(report));
  return lines;
}

/** `4 min 12 s`, `3.4 s`. */
export function duration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1000)} s`;
}
