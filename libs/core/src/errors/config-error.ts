import { CoreError } from './core-error.ts';

/** One thing wrong with the configuration, named by the setting a user sets. */
export interface ConfigProblem {
  /** The environment variable that carries the setting. */
  readonly setting: string;
  /** What is wrong and what is expected instead. */
  readonly message: string;
}

/**
 * The configuration cannot be used. Carries every problem found, not just the
 * first, so one start-up attempt tells the operator everything to fix.
 */
export class ConfigError extends CoreError {
  readonly problems: readonly ConfigProblem[];

  constructor(service: string, problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((p) => `  - ${p.setting}: ${p.message}`);
    super(
      'CONFIG_INVALID',
      [
        `Invalid ${service} configuration (${count}):`,
        ...lines,
        'Fix these settings (environment variables) and start again; nothing was contacted.',
      ].join('\n'),
    );
    this.problems = problems;
  }
}

/** True for configuration errors. */
export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof ConfigError;
}
