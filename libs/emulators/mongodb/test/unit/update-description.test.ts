import { describe, expect, it } from 'vitest';
import { describeUpdate, wholeValuePaths } from '../../src/oplog/update-description.ts';

describe('updateDescription follows the server v2 delta shape', () => {
  const cases = [
    {
      name: 'reports a changed nested field by dotted path',
      before: { _id: 1, a: { b: 1, c: 2 } },
      after: { _id: 1, a: { b: 5, c: 2 } },
      update: { $set: { 'a.b': 5 } },
      expected: { updatedFields: { 'a.b': 5 }, removedFields: [], truncatedArrays: [] },
    },
    {
      name: 'reports a field set as a whole object whole',
      before: { _id: 1, a: { c: 1 } },
      after: { _id: 1, a: { b: 1 } },
      update: { $set: { a: { b: 1 } } },
      expected: { updatedFields: { a: { b: 1 } }, removedFields: [], truncatedArrays: [] },
    },
    {
      name: 'reports appended array elements by index',
      before: { _id: 1, t: ['x'] },
      after: { _id: 1, t: ['x', 'y', 'z'] },
      update: { $push: { t: { $each: ['y', 'z'] } } },
      expected: {
        updatedFields: { 't.1': 'y', 't.2': 'z' },
        removedFields: [],
        truncatedArrays: [],
      },
    },
    {
      name: 'reports a shortened array as truncated',
      before: { _id: 1, t: [1, 2, 3] },
      after: { _id: 1, t: [1, 2] },
      update: { $pop: { t: 1 } },
      expected: {
        updatedFields: {},
        removedFields: [],
        truncatedArrays: [{ field: 't', newSize: 2 }],
      },
    },
    {
      name: 'reports removed fields',
      before: { _id: 1, gone: true, kept: 1 },
      after: { _id: 1, kept: 1 },
      update: { $unset: { gone: '' } },
      expected: { updatedFields: {}, removedFields: ['gone'], truncatedArrays: [] },
    },
    {
      name: 'spells out a path through a numeric field name, with array indexes as numbers',
      before: { _id: 1, a: [{ '1': 1 }] },
      after: { _id: 1, a: [{ '1': 2 }] },
      update: { $set: { 'a.0.1': 2 } },
      expected: { updatedFields: { 'a.0.1': 2 }, removedFields: [], truncatedArrays: [] },
      disambiguated: { 'a.0.1': ['a', 0, '1'] },
    },
    {
      name: 'spells out removed fields and truncated arrays under a field name with a dot',
      before: { _id: 1, 'x.y': { gone: 1, t: [1, 2] } },
      after: { _id: 1, 'x.y': { t: [1] } },
      update: {},
      expected: {
        updatedFields: {},
        removedFields: ['x.y.gone'],
        truncatedArrays: [{ field: 'x.y.t', newSize: 1 }],
      },
      disambiguated: { 'x.y.gone': ['x.y', 'gone'], 'x.y.t': ['x.y', 't'] },
    },
    {
      name: 'leaves unambiguous paths out: a numeric first part, array indexes, a leading zero',
      before: { _id: 1, '1': 1, t: [1], o: { '01': 1 } },
      after: { _id: 1, '1': 2, t: [2], o: { '01': 2 } },
      update: { $set: { '1': 2, 't.0': 2, 'o.01': 2 } },
      expected: {
        updatedFields: { '1': 2, 't.0': 2, 'o.01': 2 },
        removedFields: [],
        truncatedArrays: [],
      },
      disambiguated: {},
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(describeUpdate(c.before, c.after, wholeValuePaths(c.update))).toEqual({
        updateDescription: c.expected,
        disambiguatedPaths: c.disambiguated ?? {},
      });
    });
  }
});
