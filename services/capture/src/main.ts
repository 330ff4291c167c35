/**
 * The capture service's process entry.
 *
 * Stop signals are taken before anything else is loaded: ES module imports
 * are all evaluated before a module's body runs, and loading the driver and
 * SDKs takes long enough on a busy machine that a SIGTERM would otherwise
 * meet Node's default disposition and end the process by signal instead of
 * exit 0. So this file statically imports only the tiny signal module, and
 * the rest is loaded with `import()` after the listeners exist. Until
 * start-up arms the ordered shutdown, a signal finds nothing to close and
 * exits with 0.
 *
 * Then the libraries are instrumented if the environment asks for traces
 * (see `instrument-libraries.ts`), and the configuration is validated (see `run-capture.ts`).
 */
import { listenForStopSignals } from '@tributary/telemetry/stop-signals';

listenForStopSignals();
// Libraries are instrumented (when tracing is asked for) before they load.
// Loaded after the signal listeners exist, like everything else here.
const { instrumentLibraries } = await import('@tributary/telemetry/instrument');
await instrumentLibraries(process.env);
const { runCapture } = await import('./run-capture.ts');
await runCapture(process.env);
