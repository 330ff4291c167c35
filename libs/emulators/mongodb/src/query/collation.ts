import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { isPlainObject } from '../storage/bson-values.ts';

/**
 * Collation: the simple (binary) comparison by default, and the
 * case-insensitive strengths programs ask for — 1 (base letters only: a = A
 * = á) and 2 (accents too: a = A, a ≠ á) — in any locale Node's ICU knows.
 * mingo sorts under a collation (with Intl.Collator) but matches binary, so
 * matching compares folded strings: lower-cased in the locale, and at
 * strength 1 stripped of accents. Everything else a collation can say
 * (strength 3+, caseLevel, numericOrdering, …) is refused, not ignored.
 * https://www.mongodb.com/docs/manual/reference/collation/
 */

/** A supported non-simple collation. */
export interface Collation {
  /** The collation document as given (mingo's `collation` option for sorting). */
  readonly spec: { locale: string; strength: 1 | 2 };
  /** The string a value compares as: equal folds mean equal under the collation. */
  fold(value: string): string;
}

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

/** Options a supported collation may carry only at their defaults. */
const DEFAULTS: Document = {
  caseLevel: false,
  caseFirst: 'off',
  numericOrdering: false,
  alternate: 'non-ignorable',
  maxVariable: 'punct',
  normalization: false,
  backwards: false,
};

/**
 * Parses the `collation` of a command, statement or index spec (`field`
 * names it in errors, e.g. `find.collation`): undefined for none or
 * `{ locale: 'simple' }`; a malformed one gets the server's parse error; an
 * unsupported one is BadValue, naming collation as unsupported by the emulator.
 */
export function parseCollation(value: unknown, field: string): Collation | undefined {
  if (value === undefined || value === null) return undefined;
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
  if (value.locale === 'simple' && Object.keys(value).length === 1) return undefined;
  const locale = supportedLocale(value.locale);
  const strength = value.strength;
  const atDefaults = Object.entries(value).every(
    ([key, v]) =>
      key === 'locale' || key === 'strength' || key === 'version' || DEFAULTS[key] === v,
  );
  if (!locale || (strength !== 1 && strength !== 2) || !atDefaults) throw unsupported(value);
  const fold =
    strength === 2
      ? (s: string) => s.toLocaleLowerCase(locale)
      : (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase(locale);
  return { spec: { locale, strength }, fold };
}

/**
 * Checks a collation where the emulator can honour only the simple one
 * (distinct, create, a unique index): anything else is refused.
 */
export function checkCollation(value: unknown, field: string): void {
  if (parseCollation(value, field)) throw unsupported(value as Document, ' here');
}

function supportedLocale(locale: unknown): string | undefined {
  if (typeof locale !== 'string' || locale === 'simple') return undefined;
  try {
    return Intl.Collator.supportedLocalesOf([locale.replace(/@.*/, '').replace(/_/g, '-')])[0];
  } catch {
    // An ill-formed tag is not a locale the emulator can honour (refused by the caller).
    return undefined;
  }
}

function unsupported(value: Document, where = ''): CommandError {
  const shown = Object.entries(value)
    .map(([key, v]) => `${key}: ${JSON.stringify(v)}`)
    .join(', ');
  return new CommandError(
    'BadValue',
    `collation { ${shown} } is not supported by the Tributary MongoDB emulator${where}: only { locale: 'simple' } and a locale with strength 1 or 2 (case-insensitive) are`,
  );
}

/**
 * `value` with every string folded (object keys and `$`-prefixed strings —
 * field paths and variables in expressions — kept), so that a binary match
 * of folded values is a match under the collation. Regular expressions are
 * kept as they are: the server never applies a collation to them.
 */
export function foldStrings(value: unknown, collation: Collation): unknown {
  if (typeof value === 'string') return value.startsWith('$') ? value : collation.fold(value);
  if (Array.isArray(value)) return value.map((item) => foldStrings(item, collation));
  if (!isPlainObject(value)) return value;
  const out: Document = {};
  for (const [key, v] of Object.entries(value)) out[key] = foldStrings(v, collation);
  return out;
}
