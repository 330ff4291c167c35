import { defineConfig } from 'vitest/config';

/**
 * One test run across every project of the workspace. Each project keeps its
 * own `vitest.config.ts` (so `nx test <project>` works alone); this file
 * gathers them and adds the closing summary line CI reads.
 */
export default defineConfig({
  test: {
    projects: [
      'libs/*/vitest.config.ts',
      'libs/emulators/*/vitest.config.ts',
      'services/*/vitest.config.ts',
      'tools/vitest.config.ts',
      'e2e/vitest.config.ts',
    ],
    reporters: ['default', './tools/vitest/summary-reporter.ts'],
  },
});
