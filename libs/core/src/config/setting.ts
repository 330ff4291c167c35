import { z } from 'zod';

/**
 * One setting, declared once: the environment variable that carries it, what
 * it means, its default and how its text is parsed. The loader, the error
 * messages and the README's configuration table all come from this.
 */
export interface Setting<T> {
  /** Environment variable name. */
  readonly env: string;
  /** What the setting does, for the README and for error messages. */
  readonly description: string;
  /** What a valid value looks like, phrased to follow "expected". */
  readonly expected: string;
  /** Parses the raw text. */
  readonly schema: z.ZodType<T, string>;
  /** The text used when the variable is unset; `undefined` means required or optional. */
  readonly defaultText?: string;
  /** When true, an unset variable is fine and yields `undefined`. */
  readonly optional?: boolean;
  /** Credentials: never echoed in errors or logs. */
  readonly secret?: boolean;
}

/** A table of settings keyed by the config property each one fills. */
export type SettingTable = Record<string, Setting<unknown>>;

/** The parsed configuration a table describes. */
export type ConfigOf<Table extends SettingTable> = {
  -readonly [K in keyof Table]: Table[K] extends Setting<infer T>
    ? Table[K]['optional'] extends true
      ? T | undefined
      : T
    : never;
};

type SettingOptions = Pick<Setting<unknown>, 'env' | 'description'> & {
  defaultText?: string;
  optional?: boolean;
  secret?: boolean;
};

function setting<T>(
  options: SettingOptions,
  expected: string,
  schema: z.ZodType<T, string>,
): Setting<T> {
  return { ...options, expected, schema };
}

/**
 * Free text, at least one character. `expected` says what a useful value
 * looks like when a rule checks more than the text's presence.
 */
export function textSetting(options: SettingOptions & { expected?: string }): Setting<string> {
  const { expected = 'a non-empty text', ...rest } = options;
  return setting(rest, expected, z.string().trim().min(1));
}

/** A whole number within bounds; units belong in the variable's name. */
export function intSetting(
  options: SettingOptions & { min: number; max?: number },
): Setting<number> {
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const expected =
    options.max === undefined
      ? `a whole number ≥ ${options.min}`
      : `a whole number from ${options.min} to ${options.max}`;
  return setting(
    options,
    expected,
    z
      .string()
      .trim()
      .regex(/^-?\d+$/)
      .transform(Number)
      .pipe(z.number().int().min(options.min).max(max)),
  );
}

/** One of a fixed set of words. */
export function enumSetting<const V extends readonly [string, ...string[]]>(
  options: SettingOptions & { values: V },
): Setting<V[number]> {
  return setting(
    options,
    `one of ${options.values.join(', ')}`,
    z.string().trim().pipe(z.enum(options.values)),
  );
}

/** `true` or `false` (also 1/0, yes/no). */
export function boolSetting(options: SettingOptions): Setting<boolean> {
  const truthy = new Set(['true', '1', 'yes']);
  const falsy = new Set(['false', '0', 'no']);
  return setting(
    options,
    'true or false',
    z
      .string()
      .trim()
      .toLowerCase()
      .refine((v) => truthy.has(v) || falsy.has(v))
      .transform((v) => truthy.has(v)),
  );
}

/** A URL whose scheme is one of `schemes`. */
export function urlSetting(
  options: SettingOptions & { schemes: readonly string[] },
): Setting<string> {
  const expected = `a URL starting with ${options.schemes.map((s) => `${s}://`).join(' or ')}`;
  return setting(
    options,
    expected,
    z
      .string()
      .trim()
      .refine((value) => {
        const scheme = /^([a-z][a-z0-9+.-]*):\/\/[^/\s]/i.exec(value)?.[1]?.toLowerCase();
        return scheme !== undefined && options.schemes.includes(scheme);
      }),
  );
}

/** A comma-separated list of items matching `item`; empty text is an empty list. */
export function listSetting(
  options: SettingOptions & { item: RegExp; itemExpected: string },
): Setting<string[]> {
  return setting(
    options,
    `a comma-separated list of ${options.itemExpected}`,
    z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
      )
      .refine((items) => items.every((i) => options.item.test(i))),
  );
}
