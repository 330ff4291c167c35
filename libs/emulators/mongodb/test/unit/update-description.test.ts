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
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(describeUpdate(c.before, c.after, wholeValuePaths(c.update))).toEqual(c.expected);
    });
  }
});
