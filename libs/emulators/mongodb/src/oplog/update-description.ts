import type { Document } from 'bson';
import { bsonEquals, isPlainObject } from '../storage/bson-values.ts';
import { copyKind, flag, hasNumericTypes, kindOf } from '../storage/numeric-types.ts';
import type { UpdateDescription } from './oplog.ts';

/**
 * Computes a change event's `updateDescription` from the document before and
 * after an update, following the server's "v2" oplog delta format (since
 * MongoDB 5.0): changed fields by dotted path, array elements by index
 * ("tags.2"), shortened arrays in `truncatedArrays`, removed fields in
 * `removedFields`. Paths an operator set as a whole (`$set: { a: {...} }`)
 * are reported whole, as the server's update driver logs them.
 */
export function describeUpdate(
  before: Document,
  after: Document,
  wholePaths: Set<string>,
): UpdateDescription {
  const description: UpdateDescription = {
    updatedFields: {},
    removedFields: [],
    truncatedArrays: [],
  };
  diffObject(before, after, '', wholePaths, description);
  if (hasNumericTypes(description.updatedFields)) flag(description as unknown as Document);
  return description;
}

/** Reports `container[key]` under `path`, keeping its numeric type. */
function report(out: UpdateDescription, path: string, container: Document, key: string): void {
  out.updatedFields[path] = container[key];
  copyKind(container, key, out.updatedFields, path);
}

function diffObject(
  before: Document,
  after: Document,
  prefix: string,
  whole: Set<string>,
  out: UpdateDescription,
): void {
  for (const key of Object.keys(before)) {
    if (!(key in after)) out.removedFields.push(prefix + key);
  }
  for (const key of Object.keys(after)) {
    const path = prefix + key;
    if (!(key in before)) report(out, path, after, key);
    else diffValue(before, after, key, path, whole, out);
  }
}

function diffValue(
  beforeParent: Document,
  afterParent: Document,
  key: string,
  path: string,
  whole: Set<string>,
  out: UpdateDescription,
): void {
  const before = beforeParent[key];
  const after = afterParent[key];
  if (bsonEquals(before, after) && kindOf(beforeParent, key) === kindOf(afterParent, key)) return;
  if (whole.has(path)) {
    report(out, path, afterParent, key);
    return;
  }
  if (isPlainObject(before) && isPlainObject(after)) {
    diffObject(before, after, `${path}.`, whole, out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const shared = Math.min(before.length, after.length);
    for (let i = 0; i < shared; i++) {
      diffValue(before as Document, after as Document, String(i), `${path}.${i}`, whole, out);
    }
    for (let i = shared; i < after.length; i++)
      report(out, `${path}.${i}`, after as Document, String(i));
    if (after.length < before.length)
      out.truncatedArrays.push({ field: path, newSize: after.length });
    return;
  }
  report(out, path, afterParent, key);
}

/** Update operators whose named paths are replaced as a whole value. */
const WHOLE_VALUE_OPERATORS = [
  '$set',
  '$setOnInsert',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$currentDate',
  '$bit',
];

/** Paths (without positional parts) that an operator update sets as whole values. */
export function wholeValuePaths(update: Document): Set<string> {
  const paths = new Set<string>();
  for (const operator of WHOLE_VALUE_OPERATORS) {
    const spec = update[operator];
    if (!isPlainObject(spec)) continue;
    for (const path of Object.keys(spec)) if (!path.includes('$')) paths.add(path);
  }
  const rename = update.$rename;
  if (isPlainObject(rename)) for (const target of Object.values(rename)) paths.add(String(target));
  return paths;
}
