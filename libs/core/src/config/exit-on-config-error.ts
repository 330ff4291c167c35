import { isConfigError } from '../errors/config-error.ts';

/** sysexits.h EX_CONFIG: the process was started with a configuration it cannot use. */
export const EXIT_CONFIG = 78;

/**
 * Runs a configuration loader at process start. On a configuration error it
 * prints every problem to standard error and exits with {@link EXIT_CONFIG}
 * — before the caller has had a chance to contact any system.
 */
export function exitOnConfigError<C>(load: () => C): C {
  try {
    return load();
  } catch (error) {
    if (!isConfigError(error)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
}
