import { ConfigError, type ConfigProblem } from '../errors/config-error.ts';
import type { ConfigOf, SettingTable } from './setting.ts';

/** Environment-like input: variable name to text. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** A cross-field rule: returns the problems it finds in an otherwise valid config. */
export type ConfigRule<C> = (config: C) => ConfigProblem[];

/**
 * Reads every setting of `table` from `env`, then applies `rules`. Collects
 * all problems before failing, so one attempt names everything to fix. A
 * secret's value never appears in a message.
 *
 * @throws ConfigError naming each bad or missing setting and what it expects.
 */
export function loadConfig<Table extends SettingTable>(
  service: string,
  table: Table,
  env: EnvSource,
  rules: ReadonlyArray<ConfigRule<ConfigOf<Table>>> = [],
): ConfigOf<Table> {
  const problems: ConfigProblem[] = [];
  const config: Record<string, unknown> = {};

  for (const [key, setting] of Object.entries(table)) {
    const given = env[setting.env];
    const raw = given === undefined || given.trim() === '' ? setting.defaultText : given;
    if (raw === undefined) {
      if (!setting.optional) {
        problems.push({
          setting: setting.env,
          message: `is required but not set; expected ${setting.expected} (${setting.description})`,
        });
      }
      config[key] = undefined;
      continue;
    }
    const parsed = setting.schema.safeParse(raw);
    if (parsed.success) {
      config[key] = parsed.data;
    } else {
      const shown = setting.secret
        ? 'a value that is not valid (hidden: secret)'
        : JSON.stringify(raw);
      problems.push({
        setting: setting.env,
        message: `expected ${setting.expected}, got ${shown}`,
      });
    }
  }

  // Rules run even when some fields failed (those read as undefined), so the
  // operator sees every problem at once; a setting already reported is not
  // reported twice.
  const reported = new Set(problems.map((p) => p.setting));
  for (const rule of rules) {
    for (const problem of rule(config as ConfigOf<Table>)) {
      if (!reported.has(problem.setting)) problems.push(problem);
    }
  }
  if (problems.length > 0) throw new ConfigError(service, problems);
  return config as ConfigOf<Table>;
}

/** The values of every secret setting that is set, for the log redactor. */
export function secretValues(table: SettingTable, env: EnvSource): string[] {
  return Object.values(table)
    .filter((s) => s.secret)
    .map((s) => env[s.env])
    .filter((v): v is string => v !== undefined && v.trim().length > 0);
}
