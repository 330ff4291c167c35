import { describe, expect, it } from 'vitest';
import { countRun, formatCounts } from '../vitest/summary-reporter.ts';

type State = 'passed' | 'failed' | 'skipped' | 'pending';

function fakeModule(states: State[], moduleState: 'passed' | 'failed' = 'passed') {
  return {
    state: () => moduleState,
    children: {
      *allTests() {
        for (const state of states) yield { result: () => ({ state }) };
      },
    },
  } as never;
}

describe('the closing summary line', () => {
  it('counts passed, failed and skipped tests across modules', () => {
    const counts = countRun(
      [fakeModule(['passed', 'passed', 'skipped']), fakeModule(['failed', 'passed'], 'failed')],
      [],
    );
    expect(counts).toEqual({ passed: 3, failed: 1, skipped: 1 });
    expect(formatCounts(counts)).toBe('3 passed, 1 failed, 1 skipped');
  });

  it('counts a file that failed before any test ran as one failure', () => {
    expect(countRun([fakeModule([], 'failed')], [])).toEqual({ passed: 0, failed: 1, skipped: 0 });
  });

  it('counts unhandled errors as failures', () => {
    expect(countRun([fakeModule(['passed'])], [new Error('late rejection')]).failed).toBe(1);
  });

  it('omits skipped when nothing was skipped', () => {
    expect(formatCounts({ passed: 2, failed: 0, skipped: 0 })).toBe('2 passed, 0 failed');
  });
});
