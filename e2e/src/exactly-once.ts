import { expect } from 'vitest';
import type { Verification } from './pipeline.ts';

/** A comparison with the source in which nothing is missing, repeated, unknown or misplaced. */
export const EXACT = { missing: [], duplicated: [], unexpected: [], misplaced: [] } as const;

/**
 * The lake holds every source event exactly once, where the oplog puts it,
 * with one line per event and no layout problem.
 */
export function expectExactlyOnce({ comparison, inventory }: Verification): void {
  expect(comparison).toMatchObject(EXACT);
  expect(inventory.lines).toBe(comparison.produced);
  expect(inventory.problems).toEqual([]);
}
