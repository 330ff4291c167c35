/**
 * The capture service's process entry.
 *
 * Stop signals are taken before anything is opened: until start-up arms the
 * ordered shutdown, a signal finds nothing to close and exits with 0. Then
 * the configuration is validated: a bad setting stops the process with
 * every problem named and exit code 78 (EX_CONFIG), and no system is
 * contacted.
 */
import {
  captureSettings,
  exitOnConfigError,
  loadCaptureConfig,
  secretValues,
} from '@tributary/core';
import { listenForStopSignals } from '@tributary/telemetry';
import { startCapture } from './start-capture.ts';

listenForStopSignals();
const config = exitOnConfigError(() => loadCaptureConfig(process.env));
await startCapture(config, secretValues(captureSettings, process.env));
