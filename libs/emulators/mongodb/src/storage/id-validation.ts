import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { isPlainObject } from './bson-values.ts';

/**
 * The server's rules for a stored `_id`: never an array, a regex (or
 * undefined), and no `$`-prefixed field at any depth of an embedded document
 * (a DBRef's `$ref`/`$id`/`$db` excepted). An insert answers the first two
 * with BadValue (ops/insert.cpp's messages); an update or replacement with
 * InvalidIdField (storage_validation.cpp). A `$`-prefixed field is
 * DollarPrefixedFieldName either way.
 */
export function validateIdForInsert(doc: Document): void {
  const id: unknown = doc._id;
  if (Array.isArray(id)) throw new CommandError('BadValue', "can't use an array for _id");
  if (id instanceof RegExp || isBsonRegExp(id))
    throw new CommandError('BadValue', "can't use a regex for _id");
  checkNoDollarFields(id);
}

/** The same rules for the `_id` an update, replacement or upsert leaves. */
export function validateIdForUpdate(doc: Document): void {
  const id: unknown = doc._id;
  const type = Array.isArray(id)
    ? 'array'
    : id instanceof RegExp || isBsonRegExp(id)
      ? 'regex'
      : undefined;
  if (type) throw new CommandError('InvalidIdField', `The '_id' value cannot be of type ${type}`);
  checkNoDollarFields(id);
}

function isBsonRegExp(value: unknown): boolean {
  return (value as { _bsontype?: string } | null)?._bsontype === 'BSONRegExp';
}

const DBREF_FIELDS = new Set(['$ref', '$id', '$db']);

function checkNoDollarFields(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) checkNoDollarFields(item);
    return;
  }
  if (!isPlainObject(value)) return;
  const keys = Object.keys(value);
  const dbRef = keys[0] === '$ref';
  for (const key of keys) {
    if (key.startsWith('$') && !(dbRef && DBREF_FIELDS.has(key)))
      throw new CommandError(
        'DollarPrefixedFieldName',
        `_id fields may not contain '$'-prefixed fields: ${key} is not valid for storage.`,
      );
    checkNoDollarFields(value[key]);
  }
}
