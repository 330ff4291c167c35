import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { bsonEquals, isPlainObject } from '../storage/bson-values.ts';
import { kindOf } from '../storage/numeric-types.ts';

/**
 * MongoDB's `$jsonSchema` (JSON Schema draft 4 plus `bsonType`, without
 * `$ref`, `format` and the like), compiled to a predicate mingo's
 * `$jsonSchema` operator calls — in queries and in collection validators.
 * Each keyword constrains only values of the type it is about (`minimum`
 * numbers, `minLength` strings, …), as in JSON Schema.
 * https://www.mongodb.com/docs/manual/reference/operator/query/jsonSchema/
 */

type Check = (value: unknown, container: object | undefined, key: string) => boolean;

const IGNORED = new Set(['title', 'description']);
const UNSUPPORTED = new Set(['$ref', '$schema', 'default', 'definitions', 'format', 'id']);
const NUMERIC = new Set(['int', 'long', 'double', 'decimal']);

/** The BSON type name `$type`/`bsonType` use for a stored value. */
function bsonTypeOf(value: unknown, container: object | undefined, key: string): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'bigint') return 'long';
  if (typeof value === 'number') {
    const kind = container ? kindOf(container, key) : undefined;
    if (kind) return kind;
    return Number.isInteger(value) && Math.abs(value) <= 2147483647 && !Object.is(value, -0)
      ? 'int'
      : 'double';
  }
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regex';
  if (isPlainObject(value)) return 'object';
  const bsonType = (value as { _bsontype?: string })._bsontype;
  const names: Record<string, string> = {
    ObjectId: 'objectId',
    Binary: 'binData',
    Long: 'long',
    Double: 'double',
    Int32: 'int',
    Decimal128: 'decimal',
    Timestamp: 'timestamp',
    MinKey: 'minKey',
    MaxKey: 'maxKey',
    BSONRegExp: 'regex',
    BSONSymbol: 'symbol',
    DBRef: 'object',
    Code: (value as { scope?: unknown }).scope ? 'javascriptWithScope' : 'javascript',
  };
  return (bsonType && names[bsonType]) ?? 'object';
}

/** The JSON Schema `type` of a value (MongoDB has no `integer`). */
function jsonTypeOf(bsonType: string): string | undefined {
  if (NUMERIC.has(bsonType)) return 'number';
  if (bsonType === 'bool') return 'boolean';
  return ['object', 'array', 'string', 'null'].includes(bsonType) ? bsonType : undefined;
}

function toNumber(value: unknown, type: string): number | undefined {
  if (!NUMERIC.has(type)) return undefined;
  return typeof value === 'number' ? value : Number(String(value));
}

function parseError(message: string): CommandError {
  return new CommandError('FailedToParse', message);
}

function names(value: unknown, keyword: string): string[] {
  const list = [value].flat();
  if (!list.every((item): item is string => typeof item === 'string'))
    throw parseError(`$jsonSchema keyword '${keyword}' must be a string or an array of strings`);
  return list;
}

/** Compiles one keyword of a schema; every check passes values it does not constrain. */
function keywordCheck(keyword: string, arg: unknown, schema: Document): Check | undefined {
  const sub = (value: unknown) => compileSchema(value, keyword);
  switch (keyword) {
    case 'bsonType': {
      const allowed = names(arg, keyword);
      return (v, c, k) => {
        const type = bsonTypeOf(v, c, k);
        return allowed.includes(type) || (allowed.includes('number') && NUMERIC.has(type));
      };
    }
    case 'type': {
      const allowed = names(arg, keyword);
      return (v, c, k) => allowed.includes(jsonTypeOf(bsonTypeOf(v, c, k)) ?? '');
    }
    case 'enum': {
      if (!Array.isArray(arg) || arg.length === 0)
        throw parseError("$jsonSchema keyword 'enum' must be a non-empty array");
      return (v) => arg.some((option) => bsonEquals(option, v));
    }
    case 'minimum':
    case 'maximum': {
      const exclusive =
        schema[keyword === 'minimum' ? 'exclusiveMinimum' : 'exclusiveMaximum'] === true;
      const bound = Number(arg);
      return (v, c, k) => {
        const n = toNumber(v, bsonTypeOf(v, c, k));
        if (n === undefined) return true;
        if (keyword === 'minimum') return exclusive ? n > bound : n >= bound;
        return exclusive ? n < bound : n <= bound;
      };
    }
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return undefined; // Read with minimum / maximum.
    case 'multipleOf':
      return (v, c, k) => {
        const n = toNumber(v, bsonTypeOf(v, c, k));
        return n === undefined || Number.isInteger(n / Number(arg));
      };
    case 'minLength':
    case 'maxLength':
      return (v) => {
        if (typeof v !== 'string') return true;
        const length = [...v].length;
        return keyword === 'minLength' ? length >= Number(arg) : length <= Number(arg);
      };
    case 'pattern': {
      const re = new RegExp(String(arg), 'u');
      return (v) => typeof v !== 'string' || re.test(v);
    }
    case 'required': {
      const fields = names(arg, keyword);
      return (v) => !isPlainObject(v) || fields.every((field) => field in v);
    }
    case 'properties': {
      if (!isPlainObject(arg))
        throw parseError("$jsonSchema keyword 'properties' must be an object");
      const checks = Object.entries(arg).map(([field, s]) => [field, sub(s)] as const);
      return (v) =>
        !isPlainObject(v) ||
        checks.every(([field, check]) => !(field in v) || check(v[field], v, field));
    }
    case 'patternProperties':
      return undefined; // Read with additionalProperties.
    case 'additionalProperties': {
      const declared = new Set(Object.keys((schema.properties as Document | undefined) ?? {}));
      const patterns = Object.entries((schema.patternProperties as Document | undefined) ?? {}).map(
        ([p, s]) => [new RegExp(p, 'u'), sub(s)] as const,
      );
      const rest = typeof arg === 'boolean' ? () => arg : sub(arg);
      return (v) =>
        !isPlainObject(v) ||
        Object.keys(v).every((field) => {
          const matching = patterns.filter(([re]) => re.test(field));
          if (!matching.every(([, check]) => check(v[field], v, field))) return false;
          return declared.has(field) || matching.length > 0 || rest(v[field], v, field);
        });
    }
    case 'minProperties':
    case 'maxProperties':
      return (v) => {
        if (!isPlainObject(v)) return true;
        const count = Object.keys(v).length;
        return keyword === 'minProperties' ? count >= Number(arg) : count <= Number(arg);
      };
    case 'items': {
      const checks = Array.isArray(arg) ? arg.map(sub) : undefined;
      const all = checks ? undefined : sub(arg);
      const extra =
        checks && schema.additionalItems !== undefined
          ? typeof schema.additionalItems === 'boolean'
            ? () => schema.additionalItems as boolean
            : sub(schema.additionalItems)
          : () => true;
      return (v) =>
        !Array.isArray(v) ||
        v.every((item, i) => (checks ? (checks[i] ?? extra) : (all as Check))(item, v, String(i)));
    }
    case 'additionalItems':
      return undefined; // Read with items.
    case 'minItems':
    case 'maxItems':
      return (v) =>
        !Array.isArray(v) ||
        (keyword === 'minItems' ? v.length >= Number(arg) : v.length <= Number(arg));
    case 'uniqueItems':
      return (v) =>
        arg !== true ||
        !Array.isArray(v) ||
        v.every((item, i) => v.slice(i + 1).every((other) => !bsonEquals(item, other)));
    case 'allOf':
    case 'anyOf':
    case 'oneOf': {
      if (!Array.isArray(arg) || arg.length === 0)
        throw parseError(`$jsonSchema keyword '${keyword}' must be a non-empty array`);
      const checks = arg.map(sub);
      return (v, c, k) => {
        const passed = checks.filter((check) => check(v, c, k)).length;
        return keyword === 'allOf'
          ? passed === checks.length
          : keyword === 'anyOf'
            ? passed > 0
            : passed === 1;
      };
    }
    case 'not': {
      const check = sub(arg);
      return (v, c, k) => !check(v, c, k);
    }
    case 'dependencies': {
      if (!isPlainObject(arg))
        throw parseError("$jsonSchema keyword 'dependencies' must be an object");
      const deps = Object.entries(arg).map(
        ([field, dep]) => [field, Array.isArray(dep) ? names(dep, keyword) : sub(dep)] as const,
      );
      return (v, c, k) =>
        !isPlainObject(v) ||
        deps.every(
          ([field, dep]) =>
            !(field in v) || (Array.isArray(dep) ? dep.every((f) => f in v) : dep(v, c, k)),
        );
    }
    default:
      if (IGNORED.has(keyword)) return undefined;
      if (UNSUPPORTED.has(keyword))
        throw parseError(`$jsonSchema keyword '${keyword}' is not currently supported`);
      throw parseError(`Unknown $jsonSchema keyword: ${keyword}`);
  }
}

function compileSchema(schema: unknown, within: string): Check {
  if (!isPlainObject(schema)) throw parseError(`$jsonSchema '${within}' must be an object`);
  const checks = Object.entries(schema)
    .map(([keyword, arg]) => keywordCheck(keyword, arg, schema))
    .filter((check): check is Check => check !== undefined);
  return (v, c, k) => checks.every((check) => check(v, c, k));
}

/** The predicate for a top-level `$jsonSchema` (mingo's `jsonSchemaValidator` option). */
export function jsonSchemaPredicate(schema: unknown): (doc: unknown) => boolean {
  const check = compileSchema(schema, '$jsonSchema');
  return (doc) => check(doc, undefined, '');
}
