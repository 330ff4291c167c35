import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/** Counts of one finished run, as printed on the closing line. */
export interface RunCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Tallies a finished run. A test file that fails before any of its tests run
 * (an import error, a failing `beforeAll`) and every unhandled error count as
 * one failure each, so a broken file can never hide behind "0 failed".
 */
export function countRun(
  modules: ReadonlyArray<Pick<TestModule, 'children' | 'state'>>,
  unhandledErrors: ReadonlyArray<unknown>,
): RunCounts {
  const counts: RunCounts = { passed: 0, failed: 0, skipped: 0 };
  for (const module of modules) {
    let failedHere = 0;
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') counts.passed += 1;
      else if (state === 'failed') failedHere += 1;
      else counts.skipped += 1;
    }
    if (failedHere === 0 && module.state() === 'failed') failedHere = 1;
    counts.failed += failedHere;
  }
  counts.failed += unhandledErrors.length;
  return counts;
}

/** Formats the closing line: `N passed, N failed` and `, N skipped` when any were. */
export function formatCounts(counts: RunCounts): string {
  const base = `${counts.passed} passed, ${counts.failed} failed`;
  return counts.skipped > 0 ? `${base}, ${counts.skipped} skipped` : base;
}

/**
 * Prints one line, `N passed, N failed[, N skipped]`, covering every project
 * of the run, after vitest's own summary — the line CI reads.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
  ): void {
    process.stdout.write(`\n${formatCounts(countRun(testModules, unhandledErrors))}\n`);
  }
}
