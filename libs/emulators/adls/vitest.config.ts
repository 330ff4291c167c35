import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'emulator-adls', include: ['test/**/*.test.ts'] },
});
