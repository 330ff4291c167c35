/**
 * The writer service's process entry.
 *
 * Stop signals are taken before anything else is loaded: ES module imports
 * are all evaluated before a module's body runs, and loading the SDKs takes
 * long enough on a busy machine that a SIGTERM would otherwise meet Node's
 * default disposition and end the process by signal instead of exit 0. So
 * this file statically imports only the tiny signal module, and the rest is
 * loaded with `import()` after the listeners exist. Until start-up arms the
 * ordered shutdown, a signal finds nothing to close and exits with 0.
 *
 * Then the configuration is validated (see `run-writer.ts`).
 */
import { listenForStopSignals } from '@tributary/telemetry/stop-signals';

listenForStopSignals();
const { runWriter } = await import('./run-writer.ts');
await runWriter(process.env);
