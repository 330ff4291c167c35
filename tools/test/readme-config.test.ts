import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSection } from '../docs/config-section.ts';
import { README, sectionIn } from '../docs/readme-section.ts';

describe('the README configuration section', () => {
  it('is exactly what the declared settings render (run `npm run docs` after changing a setting)', () => {
    expect(sectionIn(readFileSync(README, 'utf8'), configSection)).toBe(configSection.render());
  });
});
