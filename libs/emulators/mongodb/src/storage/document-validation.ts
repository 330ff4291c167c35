import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { compileFilter } from '../query/query-engine.ts';
import { isPlainObject } from './bson-values.ts';

/**
 * Schema validation (`validator`, `validationLevel`, `validationAction` of
 * `create` and `collMod`): query-operator and `$jsonSchema` validators,
 * which mingo matches. A document that fails is DocumentValidationFailure (121) with an
 * `errInfo` naming the failing clauses, or, with `validationAction: 'warn'`,
 * is written and logged. `$jsonSchema` validators are matched by
 * json-schema.ts.
 * https://www.mongodb.com/docs/manual/core/schema-validation/
 */

/** A collection's validation rules. */
export interface CollectionValidation {
  validator: Document;
  validationLevel: 'off' | 'strict' | 'moderate';
  validationAction: 'error' | 'warn';
}

const LEVELS = new Set(['off', 'strict', 'moderate']);
const ACTIONS = new Set(['error', 'warn']);

function enumOption(command: Document, name: string, field: string, allowed: Set<string>) {
  const value: unknown = command[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !allowed.has(value))
    throw new CommandError(
      'BadValue',
      `Enumeration value '${String(value)}' for field '${name}.${field}' is not a valid value.`,
    );
  return value;
}

/**
 * The rules a `create` or `collMod` command sets, merged over `current`;
 * undefined when there is no validator (an empty one removes validation).
 */
export function parseValidation(
  command: Document,
  name: string,
  current: CollectionValidation | undefined,
): CollectionValidation | undefined {
  const validator: unknown = command.validator;
  if (validator !== undefined && !isPlainObject(validator))
    throw new CommandError(
      'TypeMismatch',
      `BSON field '${name}.validator' is the wrong type, expected type 'object'`,
    );
  const level = enumOption(command, name, 'validationLevel', LEVELS);
  const action = enumOption(command, name, 'validationAction', ACTIONS);
  if (validator) compileFilter(validator);
  const rules: CollectionValidation = {
    validator: (validator as Document | undefined) ?? current?.validator ?? {},
    validationLevel: (level ?? current?.validationLevel ?? 'strict') as 'strict',
    validationAction: (action ?? current?.validationAction ?? 'error') as 'error',
  };
  return Object.keys(rules.validator).length === 0 && !level && !action ? undefined : rules;
}

/** The options listCollections shows for the rules. */
export function validationInfo(rules: CollectionValidation | undefined): Document {
  if (!rules) return {};
  return {
    validator: rules.validator,
    validationLevel: rules.validationLevel,
    validationAction: rules.validationAction,
  };
}

/**
 * Checks a document about to be stored. `before` is the document an update
 * replaces: under `moderate`, an update of a document that already failed
 * is not checked. `bypass` is the command's `bypassDocumentValidation`.
 */
export function checkValidation(
  rules: CollectionValidation | undefined,
  ns: { db: string; coll: string },
  doc: Document,
  before: Document | undefined,
  bypass: boolean,
): void {
  if (!rules || bypass || rules.validationLevel === 'off') return;
  if (Object.keys(rules.validator).length === 0) return;
  const matches = compileFilter(rules.validator);
  if (matches(doc)) return;
  if (before && rules.validationLevel === 'moderate' && !matches(before)) return;
  const errInfo = { failingDocumentId: doc._id, details: failureDetails(rules.validator, doc) };
  if (rules.validationAction === 'warn') {
    // The server logs "Document would fail validation" (id 20294) and writes the document.
    console.warn('[emulator-mongodb] Document would fail validation', {
      namespace: `${ns.db}.${ns.coll}`,
      errInfo,
    });
    return;
  }
  throw new CommandError('DocumentValidationFailure', 'Document failed validation', {
    extra: { errInfo },
  });
}

/**
 * The validator as the server's match tree sees it: one clause per
 * top-level operator and per field predicate, each named by its operator.
 */
function clauses(validator: Document): Array<{ operatorName: string; specifiedAs: Document }> {
  const out: Array<{ operatorName: string; specifiedAs: Document }> = [];
  for (const [key, condition] of Object.entries(validator)) {
    if (key.startsWith('$')) {
      out.push({ operatorName: key, specifiedAs: { [key]: condition } });
      continue;
    }
    const operators = isPlainObject(condition)
      ? Object.keys(condition).filter((op) => op.startsWith('$'))
      : [];
    if (operators.length === 0) {
      out.push({ operatorName: '$eq', specifiedAs: { [key]: condition } });
      continue;
    }
    for (const op of operators)
      out.push({ operatorName: op, specifiedAs: { [key]: { [op]: (condition as Document)[op] } } });
  }
  return out;
}

/** `errInfo.details`: the failing clause, or `$and` listing the failing ones by index. */
function failureDetails(validator: Document, doc: Document): Document {
  const all = clauses(validator);
  const failing = all
    .map((clause, index) => ({ index, details: clause }))
    .filter(({ details }) => !compileFilter(details.specifiedAs)(doc));
  if (all.length === 1 && failing[0]) return failing[0].details;
  return { operatorName: '$and', clausesNotSatisfied: failing };
}
