import { Long, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { kindOf } from '../storage/numeric-types.ts';
import { validateCollName } from '../storage/catalog.ts';
import { isPlainObject } from '../storage/bson-values.ts';
import { checkCollectionUuid } from '../storage/collection-uuid.ts';
import type { CommandContext } from '../server/command-context.ts';

/**
 * Argument checks that answer like the server's IDL parser:
 * "BSON field 'find.limit' is the wrong type 'string', expected type 'long'".
 */
export function typeName(value: unknown, kind?: string): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number')
    return kind === 'long'
      ? 'long'
      : kind === 'double' || !Number.isInteger(value)
        ? 'double'
        : 'int';
  if (typeof value === 'object')
    return isPlainObject(value)
      ? 'object'
      : ((value as { _bsontype?: string })._bsontype ?? 'object').toLowerCase();
  return typeof value;
}

function wrongType(
  command: string,
  field: string,
  value: unknown,
  expected: string,
  kind?: string,
): CommandError {
  return new CommandError(
    'TypeMismatch',
    `BSON field '${command}.${field}' is the wrong type '${typeName(value, kind)}', expected type '${expected}'`,
  );
}

/** The collection named by the command's first field. */
export function collectionArg(command: Document, name: string, db: string): string {
  const value = command[name];
  if (typeof value !== 'string') {
    throw new CommandError(
      'InvalidNamespace',
      `collection name has invalid type ${typeName(value)}`,
    );
  }
  return validateCollName(db, value);
}

/**
 * The collection a command targets (its first field), checked against the
 * command's `collectionUUID` when it has one (CollectionUUIDMismatch, 361).
 */
export function targetCollection(context: CommandContext): string {
  const { command, name, db } = context;
  const coll = collectionArg(command, name, db);
  checkCollectionUuid(context.node.catalog, command, { db, coll });
  return coll;
}

/** An optional document field. */
export function optionalDocument(
  command: Document,
  name: string,
  field: string,
): Document | undefined {
  const value = command[field];
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw wrongType(name, field, value, 'object');
  return value;
}

/** An optional array of documents. */
export function optionalDocuments(
  command: Document,
  name: string,
  field: string,
): Document[] | undefined {
  const value = command[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw wrongType(name, field, value, 'array');
  const bad = value.findIndex((item) => !isPlainObject(item));
  if (bad >= 0) throw wrongType(name, `${field}.${bad}`, value[bad], 'object');
  return value as Document[];
}

/** A required array of documents. */
export function requiredDocuments(command: Document, name: string, field: string): Document[] {
  const value = optionalDocuments(command, name, field);
  if (value === undefined)
    throw new CommandError(
      'NoSuchKey',
      `BSON field '${name}.${field}' is missing but a required field`,
    );
  return value;
}

/** An optional non-negative integer. */
export function optionalCount(command: Document, name: string, field: string): number | undefined {
  let value = command[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object' && typeof (value as { toNumber?: unknown }).toNumber === 'function')
    value = (value as { toNumber(): number }).toNumber();
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw wrongType(name, field, value, 'long');
  if (value < 0)
    throw new CommandError(
      'BadValue',
      `BSON field '${field}' value must be >= 0, actual value '${value}'`,
    );
  return Math.trunc(value);
}

/**
 * A required int64 (IDL `type: long`): only a BSON int64 is accepted; an
 * int32 or a double is TypeMismatch, as the server's strict parser answers.
 * Decoded int64s that fit a JavaScript number arrive promoted, their type
 * remembered (numeric-types.ts).
 */
export function requiredLong(command: Document, name: string, field: string): Long | number {
  const value = command[field];
  if (value instanceof Long) return value;
  const kind = kindOf(command, field);
  if (typeof value === 'number' && kind === 'long') return value;
  if (value === undefined)
    throw new CommandError(
      'NoSuchKey',
      `BSON field '${name}.${field}' is missing but a required field`,
    );
  throw wrongType(name, field, value, 'long', kind);
}

/** An optional boolean. */
export function optionalBoolean(
  command: Document,
  name: string,
  field: string,
): boolean | undefined {
  const value = command[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  throw wrongType(name, field, value, 'bool');
}

/**
 * An IDL enumeration (a string) at `path` (e.g. 'readConcern.level'):
 * another type is TypeMismatch, a value outside `allowed` BadValue, as the
 * server's generated parsers answer.
 */
export function enumField<T extends string>(
  path: string,
  value: unknown,
  allowed: ReadonlySet<string>,
): T {
  if (typeof value !== 'string')
    throw new CommandError(
      'TypeMismatch',
      `BSON field '${path}' is the wrong type '${typeName(value)}', expected type 'string'`,
    );
  if (!allowed.has(value))
    throw new CommandError(
      'BadValue',
      `Enumeration value '${value}' for field '${path}' is not a valid value.`,
    );
  return value as T;
}
