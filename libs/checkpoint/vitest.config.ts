import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'checkpoint', include: ['test/**/*.test.ts'] },
});
