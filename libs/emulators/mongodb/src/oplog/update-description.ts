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
): DescribedUpdate {
  const description: UpdateDescription = {
    updatedFields: {},
    removedFields: [],
    truncatedArrays: [],
  };
  const disambiguated: Document = {};
  diffObject(before, after, ROOT, { whole: wholePaths, description, disambiguated });
  if (hasNumericTypes(description.updatedFields)) flag(description as unknown as Document);
  return { updateDescription: description, disambiguatedPaths: disambiguated };
}

/** An update's description, and its ambiguous paths spelled out (for expanded events). */
export interface DescribedUpdate {
  updateDescription: UpdateDescription;
  disambiguatedPaths: Document;
}

/**
 * A path in the document as the server's change-stream diff parser tracks
 * it: its dotted form, its parts (array indexes as numbers), and whether the
 * dotted form is ambiguous — once a field name after the first part is
 * numeric, or any field name contains a dot, a reader cannot tell the parts
 * apart, so the event spells them out in `disambiguatedPaths`.
 */
interface Path {
  dotted: string;
  parts: Array<string | number>;
  ambiguous: boolean;
}

const ROOT: Path = { dotted: '', parts: [], ambiguous: false };
const STRICTLY_NUMERIC = /^(0|[1-9][0-9]*)$/;

function child(parent: Path, part: string | number): Path {
  const name = String(part);
  const ambiguous =
    parent.ambiguous ||
    (typeof part === 'string' &&
      ((parent.parts.length > 0 && STRICTLY_NUMERIC.test(part)) || part.includes('.')));
  return {
    dotted: parent.dotted === '' ? name : `${parent.dotted}.${name}`,
    parts: [...parent.parts, part],
    ambiguous,
  };
}

/** What a diff writes to. */
interface DiffOutput {
  whole: Set<string>;
  description: UpdateDescription;
  disambiguated: Document;
}

function noteAmbiguity(out: DiffOutput, path: Path): void {
  if (path.ambiguous) out.disambiguated[path.dotted] = path.parts;
}

/** Reports `container[key]` under `path`, keeping its numeric type. */
function report(out: DiffOutput, path: Path, container: Document, key: string): void {
  out.description.updatedFields[path.dotted] = container[key];
  copyKind(container, key, out.description.updatedFields, path.dotted);
  noteAmbiguity(out, path);
}

function diffObject(before: Document, after: Document, prefix: Path, out: DiffOutput): void {
  for (const key of Object.keys(before)) {
    if (!(key in after)) {
      const path = child(prefix, key);
      out.description.removedFields.push(path.dotted);
      noteAmbiguity(out, path);
    }
  }
  for (const key of Object.keys(after)) {
    const path = child(prefix, key);
    if (!(key in before)) report(out, path, after, key);
    else diffValue(before, after, key, path, out);
  }
}

function diffValue(
  beforeParent: Document,
  afterParent: Document,
  key: string,
  path: Path,
  out: DiffOutput,
): void {
  const before = beforeParent[key];
  const after = afterParent[key];
  if (bsonEquals(before, after) && kindOf(beforeParent, key) === kindOf(afterParent, key)) return;
  if (out.whole.has(path.dotted)) {
    report(out, path, afterParent, key);
    return;
  }
  if (isPlainObject(before) && isPlainObject(after)) {
    diffObject(before, after, path, out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    if (after.length < before.length) {
      out.description.truncatedArrays.push({ field: path.dotted, newSize: after.length });
      noteAmbiguity(out, path);
    }
    const shared = Math.min(before.length, after.length);
    for (let i = 0; i < shared; i++)
      diffValue(before as Document, after as Document, String(i), child(path, i), out);
    for (let i = shared; i < after.length; i++)
      report(out, child(path, i), after as Document, String(i));
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
