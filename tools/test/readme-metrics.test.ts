import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { metricsSection } from '../docs/metrics-section.ts';
import { README, sectionIn } from '../docs/readme-section.ts';

describe('the README metrics section', () => {
  it('is exactly what the metric catalog renders (run `npm run docs` after changing a metric)', () => {
    expect(sectionIn(readFileSync(README, 'utf8'), metricsSection)).toBe(metricsSection.render());
  });
});
