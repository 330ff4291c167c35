import {
  captureSettings,
  exitOnConfigError,
  loadCaptureConfig,
  secretValues,
} from '@tributary/core';
import { startCapture } from './start-capture.ts';

/**
 * Validates `env` — a bad setting stops the process with every problem named
 * and exit code 78 (EX_CONFIG), before any system is contacted — then starts
 * capture.
 */
export async function runCapture(env: NodeJS.ProcessEnv): Promise<void> {
  const config = exitOnConfigError(() => loadCaptureConfig(env));
  await startCapture(config, secretValues(captureSettings, env));
}
