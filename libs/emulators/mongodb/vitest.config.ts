import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'emulator-mongodb', include: ['test/**/*.test.ts'] },
});
