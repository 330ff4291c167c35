import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README } from '../docs/config-section.ts';
import { metricsSection, readmeMetricsSection } from '../docs/metrics-section.ts';

describe('the README metrics section', () => {
  it('is exactly what the metric catalog renders (run `npm run docs` after changing a metric)', () => {
    expect(readmeMetricsSection(readFileSync(README, 'utf8'))).toBe(metricsSection());
  });
});
