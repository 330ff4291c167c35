import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'emulator-servicebus', include: ['test/**/*.test.ts'] },
});
