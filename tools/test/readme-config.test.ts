import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README, configSection, readmeConfigSection } from '../docs/config-section.ts';

describe('the README configuration section', () => {
  it('is exactly what the declared settings render (run `npm run docs` after changing a setting)', () => {
    expect(readmeConfigSection(readFileSync(README, 'utf8'))).toBe(configSection());
  });
});
