import { describe, expect, it } from 'vitest';
import { namespaceFilter } from '../src/namespace-filter.ts';

describe('the namespace filter', () => {
  it('keeps included namespaces (db, db.coll, wildcards) minus excluded ones, and events without one', () => {
    const keep = namespaceFilter(['shop', 'crm.contacts', 'logs.app-*'], ['shop.audit']);
    expect(keep({ db: 'shop', coll: 'orders' })).toBe(true);
    expect(keep({ db: 'shop', coll: 'audit' })).toBe(false);
    expect(keep({ db: 'crm', coll: 'contacts' })).toBe(true);
    expect(keep({ db: 'crm', coll: 'leads' })).toBe(false);
    expect(keep({ db: 'logs', coll: 'app-web' })).toBe(true);
    expect(keep({ db: 'logs', coll: 'db' })).toBe(false);
    expect(keep({ db: 'shopping', coll: 'x' })).toBe(false);
    expect(keep(undefined)).toBe(true);
    expect(namespaceFilter([], ['scratch.*'])({ db: 'scratch', coll: 'x' })).toBe(false);
    expect(namespaceFilter([], [])({ db: 'any', coll: 'thing' })).toBe(true);
  });
});
