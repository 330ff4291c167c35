import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'lake', include: ['test/**/*.test.ts'] },
});
