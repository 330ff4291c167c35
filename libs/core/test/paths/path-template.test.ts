import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PATH_TEMPLATE,
  encodePathSegment,
  pathTemplateProblem,
  renderPath,
} from '../../src/index.ts';

describe('event-time path templates', () => {
  it('fills the default template from the event time in UTC', () => {
    const path = renderPath(DEFAULT_PATH_TEMPLATE, {
      db: 'shop',
      coll: 'orders',
      eventTime: new Date('2026-03-09T23:59:59.999Z'),
    });
    expect(path).toBe('shop/orders/year=2026/month=03/day=09/hour=23');
  });

  it('keeps hostile namespace names inside one segment', () => {
    expect(encodePathSegment('a/b')).toBe('a%2Fb');
    expect(encodePathSegment('50%')).toBe('50%25');
    expect(encodePathSegment('tab\there')).toBe('tab%09here');
  });

  it('puts events without a collection or database in segments no real name produces', () => {
    const eventTime = new Date('2026-03-09T10:00:00Z');
    expect(renderPath('{db}/{coll}/{HH}', { db: 'shop', eventTime })).toBe('shop/~database/10');
    expect(renderPath('{db}/{coll}/{HH}', { eventTime })).toBe('~cluster/~database/10');
    expect(renderPath('{db}/{coll}/{HH}', { db: 'shop', coll: '~database', eventTime })).toBe(
      'shop/%7Edatabase/10',
    );
  });

  it.each([
    ['{db}/{coll}', undefined],
    ['/{db}/{coll}', 'must not start or end with "/"'],
    ['{db}//{coll}', 'must not contain empty, "." or ".." segments'],
    ['{db}/../{coll}', 'must not contain empty, "." or ".." segments'],
    ['{db}/{coll}/{ss}', 'has unknown placeholder {ss}; known: {db} {coll} {YYYY} {MM} {DD} {HH}'],
    ['{db}/{coll}/x}', 'has an unbalanced "{" or "}"'],
    ['{coll}/{YYYY}', 'must contain {db} so namespaces never share files'],
    ['_tributary/{db}/{coll}', 'must not start with "_tributary", where Tributary keeps its state'],
    [
      '{db}_{coll}',
      'must have {db} as a whole path segment (like {db}/{coll}/…) so namespaces never share a directory',
    ],
    [
      '{db}/x={coll}',
      'must have {coll} as a whole path segment (like {db}/{coll}/…) so namespaces never share a directory',
    ],
  ])('judges %s', (template, problem) => {
    expect(pathTemplateProblem(template)).toBe(problem);
  });
});
