/**
 * Turns on the maintained instrumentations of the libraries Tributary's
 * services use — the MongoDB driver, ioredis (under BullMQ), and the Azure
 * SDKs (Storage and Service Bus, through `@azure/core-tracing`) — when the
 * environment asks for traces. BullMQ's own spans come from its telemetry
 * interface (`bullmq-otel`, set by the transport).
 *
 * Instrumentations patch modules as they load, so this runs in each
 * service's entry before the services' modules are imported, and before the
 * configuration is validated: it reads the raw environment
 * ({@link tracingRequested}). The services are ES modules, so besides
 * `require` hooks an `import-in-the-middle` loader hook is registered, for
 * the named packages only (wrapping every module would cost start-up time
 * and break nothing but could). When tracing is off nothing is loaded or
 * registered.
 *
 * @see https://github.com/open-telemetry/opentelemetry-js/blob/main/doc/esm-support.md
 */
import { register } from 'node:module';
import { tracingRequested } from '@tributary/core/trace-export';

/** Packages whose ES module imports are hooked (the instrumentations patch these). */
const HOOKED_PACKAGES = ['mongodb', 'ioredis', '@azure/core-tracing'];

/**
 * Registers the library instrumentations if tracing is requested; returns
 * whether it did. Idempotent.
 */
export async function instrumentLibraries(
  env: Readonly<Record<string, string | undefined>>,
): Promise<boolean> {
  if (!tracingRequested(env)) return false;
  if (instrumented) return true;
  instrumented = true;
  register('import-in-the-middle/hook.mjs', import.meta.url, {
    data: { include: HOOKED_PACKAGES },
  });
  const [{ registerInstrumentations }, mongodb, ioredis, azure] = await Promise.all([
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-mongodb'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@azure/opentelemetry-instrumentation-azure-sdk'),
  ]);
  registerInstrumentations({
    instrumentations: [
      // Statements only as shapes: documents' values never reach a span.
      new mongodb.MongoDBInstrumentation({ enhancedDatabaseReporting: false }),
      // The command name only: BullMQ's arguments carry whole batches (and AUTH a password).
      new ioredis.IORedisInstrumentation({
        dbStatementSerializer: (command: string) => command,
        requireParentSpan: true,
      }),
      azure.createAzureSdkInstrumentation(),
    ],
  });
  return true;
}

let instrumented = false;
