import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'e2e',
    include: ['test/**/*.test.ts'],
    // Each file starts whole pipelines (several Node processes) and mostly
    // waits on them (leases, locks, quiet periods): after the other projects
    // (groupOrder), two files run at a time. Measured 2026-12-07: the suite
    // took 491 s so, against about 1,000 s one file at a time, all green.
    maxWorkers: 2,
    sequence: { groupOrder: 1 },
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
