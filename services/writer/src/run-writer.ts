import { exitOnConfigError, loadWriterConfig, secretValues, writerSettings } from '@tributary/core';
import { startWriter } from './start-writer.ts';

/**
 * Validates `env` — a bad setting stops the process with every problem named
 * and exit code 78 (EX_CONFIG), before any system is contacted — then starts
 * the writer.
 */
export async function runWriter(env: NodeJS.ProcessEnv): Promise<void> {
  const config = exitOnConfigError(() => loadWriterConfig(env));
  await startWriter(config, secretValues(writerSettings, env));
}
