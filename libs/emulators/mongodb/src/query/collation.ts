import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { isPlainObject } from '../storage/bson-values.ts';

/**
 * Collation, as far as the emulator goes: only the binary comparison the
 * server uses by default (`{ locale: 'simple' }`). mingo honours a collation
 * in `$sort` only, never in matching, so a locale-aware collation would sort
 * one way and match another; the emulator refuses it instead of ignoring it.
 * https://www.mongodb.com/docs/manual/reference/collation/
 */

/** The fields of a collation document (the server's Collation IDL). */
const COLLATION_FIELDS = new Set([
  'locale',
  'caseLevel',
  'caseFirst',
  'strength',
  'numericOrdering',
  'alternate',
  'maxVariable',
  'normalization',
  'backwards',
  'version',
]);

/**
 * Checks the `collation` of a command, statement or index spec (`field`
 * names it in errors, e.g. `find.collation`): absent or `{ locale: 'simple' }`
 * passes; a malformed one gets the server's parse error; any other is
 * BadValue, naming collation as unsupported by the emulator.
 */
export function checkCollation(value: unknown, field: string): void {
  if (value === undefined) return;
  if (!isPlainObject(value))
    throw new CommandError(
      'TypeMismatch',
      `BSON field '${field}' is the wrong type, expected type 'object'`,
    );
  for (const key of Object.keys(value)) {
    if (!COLLATION_FIELDS.has(key))
      throw new CommandError('UnknownBsonField', `BSON field '${key}' is an unknown field.`);
  }
  if (value.locale === undefined)
    throw new CommandError(
      'Location40414',
      `BSON field '${field}.locale' is missing but a required field`,
    );
  if (isSimpleCollation(value)) return;
  throw new CommandError(
    'BadValue',
    `collation ${describe(value)} is not supported by the Tributary MongoDB emulator: only the simple (binary) collation, { locale: 'simple' }, is`,
  );
}

function isSimpleCollation(value: Document): boolean {
  return value.locale === 'simple' && Object.keys(value).length === 1;
}

function describe(value: Document): string {
  return `{ ${Object.entries(value)
    .map(([key, v]) => `${key}: ${JSON.stringify(v)}`)
    .join(', ')} }`;
}
