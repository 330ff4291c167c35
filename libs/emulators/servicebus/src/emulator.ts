import { createServer as createHttpServer } from 'node:http';
import { NO_JOURNAL, type Journal } from './broker/journal-port.ts';
import { Namespace } from './broker/namespace.ts';
import type { QueueCounts } from './broker/queue-entity.ts';
import { entitiesFromConfig, isValidQueueName, loadConfigFile } from './config/config-file.ts';
import { resolveQueueProperties, type QueueProperties } from './config/queue-properties.ts';
import { EmulatorError } from './emulator-error.ts';
import { handleAdminRequest } from './faults/admin-route.ts';
import { FaultInjector } from './faults/fault-injector.ts';
import { AmqpServer } from './server/amqp-server.ts';
import { Listener } from './server/listener.ts';
import { isLoopbackHost } from './server/loopback-host.ts';
import { FileJournal } from './persistence/file-journal.ts';

/** The key name Microsoft's emulator's connection strings use. */
export const DEFAULT_KEY_NAME = 'RootManageSharedAccessKey';
/** The placeholder key Microsoft's emulator's connection strings use (no secret). */
export const DEFAULT_KEY = 'SAS_KEY_VALUE';

/** Options for {@link startServiceBusEmulator}. */
export interface ServiceBusEmulatorOptions {
  /** TCP port for AMQP (and the admin route); 0 (default) picks a free one. The CLI defaults to 5672. */
  port?: number;
  /**
   * Interface to listen on; default `127.0.0.1`. The admin route on the same
   * port has no authentication: another interface gets a warning.
   */
  host?: string;
  /** A `Config.json` file (Microsoft emulator shape) defining the queues. */
  configFile?: string;
  /** The same document, already parsed. */
  config?: unknown;
  /** Queues defined in code: name → properties (defaults filled in). */
  queues?: Record<string, Partial<QueueProperties>>;
  /** Create unknown queues on first use (with these properties when an object is given). Default false. */
  autoCreateQueues?: boolean | Partial<QueueProperties>;
  /** Keep messages in this directory (survives a restart); default: in memory only. */
  dataDir?: string;
  /** fsync each journal write before answering (survive power loss, not only a crash); default false. */
  syncWrites?: boolean;
  /**
   * Verify `$cbs` tokens against this key (and key name): a token signed
   * with another key, expired, or for another audience is refused, and links
   * need a token. Default: no key, tokens are checked only for form, expiry
   * and audience.
   */
  sharedAccessKey?: string;
  /** The key's name; default `RootManageSharedAccessKey`. */
  sharedAccessKeyName?: string;
  /** Unexpected internal errors (the emulator keeps running); default: printed to stderr. */
  onInternalError?: (error: unknown) => void;
  /** Notices about the configuration (e.g. topics, which are not emulated); default: printed to stderr. */
  onWarning?: (message: string) => void;
}

/** What a queue holds, for tests (the wire shows only what the SDK can see). */
export interface QueueInspection {
  name: string;
  properties: QueueProperties;
  counts: QueueCounts;
}

/** A running emulator. */
export interface ServiceBusEmulator {
  readonly host: string;
  readonly port: number;
  /** `Endpoint=sb://127.0.0.1:PORT;SharedAccessKeyName=…;SharedAccessKey=…;UseDevelopmentEmulator=true` */
  readonly connectionString: string;
  /** `sb://127.0.0.1:PORT`, the namespace URI entities are named by. */
  readonly namespaceUri: string;
  /** The data directory, when the emulator is durable. */
  readonly dataDir: string | undefined;
  /** Fault injection (also at `/_emulator/faults` on the same port). */
  readonly faults: FaultInjector;
  /** A queue's properties and message counts; `undefined` when there is no such queue. */
  inspectQueue(name: string): QueueInspection | undefined;
  /** Stops listening, drops connections, flushes and closes the journal. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function queueDefinitions(
  options: ServiceBusEmulatorOptions,
  warn: (m: string) => void,
): Map<string, [string, QueueProperties]> {
  const out = new Map<string, [string, QueueProperties]>();
  const fromConfig =
    options.configFile !== undefined
      ? loadConfigFile(options.configFile)
      : options.config !== undefined
        ? entitiesFromConfig(options.config)
        : undefined;
  if (fromConfig) {
    // Keyed case-insensitively, as the service compares entity names; the
    // name keeps the case the file gives it.
    for (const [name, properties] of fromConfig.queues)
      out.set(name.toLowerCase(), [name, properties]);
    if (fromConfig.ignoredTopics.length > 0)
      warn(`topics are not emulated and were ignored: ${fromConfig.ignoredTopics.join(', ')}`);
    for (const notice of fromConfig.ignoredProperties) warn(notice);
  }
  for (const [name, given] of Object.entries(options.queues ?? {})) {
    if (!isValidQueueName(name))
      throw new EmulatorError(
        'invalid-configuration',
        `queues: '${name}' is not a valid queue name`,
      );
    out.set(name.toLowerCase(), [name, resolveQueueProperties(`queues.${name}`, given)]);
  }
  return out;
}

/**
 * Starts an Azure Service Bus emulator speaking AMQP 1.0 as the official
 * `@azure/service-bus` SDK expects (use its `connectionString`, which sets
 * `UseDevelopmentEmulator=true`: plain TCP, the given port).
 */
export async function startServiceBusEmulator(
  options: ServiceBusEmulatorOptions = {},
): Promise<ServiceBusEmulator> {
  const warn = options.onWarning ?? ((m: string) => console.error(`[servicebus-emulator] ${m}`));
  const onInternalError =
    options.onInternalError ??
    ((error: unknown) => console.error('[servicebus-emulator] internal error:', error));
  const definitions = queueDefinitions(options, warn);
  const keyName = options.sharedAccessKeyName ?? DEFAULT_KEY_NAME;
  const key = options.sharedAccessKey;
  const host = options.host ?? '127.0.0.1';

  let fileJournal: FileJournal | undefined;
  let journal: Journal = NO_JOURNAL;
  const autoCreate = options.autoCreateQueues;
  const makeNamespace = (j: Journal): Namespace => {
    const ns = new Namespace(
      j,
      Boolean(autoCreate),
      typeof autoCreate === 'object' ? autoCreate : undefined,
    );
    for (const [name, properties] of definitions.values()) ns.addQueue(name, properties);
    return ns;
  };
  let namespace: Namespace;
  if (options.dataDir !== undefined) {
    const opened = await FileJournal.open(
      options.dataDir,
      { syncWrites: options.syncWrites ?? false, onError: onInternalError, onWarning: warn },
      makeNamespace,
    );
    fileJournal = opened.journal;
    journal = fileJournal;
    namespace = opened.namespace;
  } else namespace = makeNamespace(journal);

  const faults = new FaultInjector();
  const env = {
    namespace,
    journal,
    faults,
    requireClaims: key !== undefined,
    namespaceUri: '',
    onInternalError,
  };
  const amqp = new AmqpServer(env, key === undefined ? undefined : { keyName, key });
  const http = createHttpServer((req, res) => {
    handleAdminRequest(req, res, faults, namespace).catch(onInternalError);
  });
  const listener = new Listener(
    (socket) => amqp.accept(socket),
    (socket) => http.emit('connection', socket),
  );
  let port: number;
  try {
    port = await listener.listen(options.port ?? 0, host);
  } catch (error) {
    namespace.close();
    await fileJournal?.close();
    throw error;
  }
  if (!isLoopbackHost(host))
    warn(
      `listening on ${host}: the admin route (/_emulator: faults, queue contents) on this port has no authentication; expose the port only to trusted hosts`,
    );
  const clientHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const hostPart = clientHost.includes(':') ? `[${clientHost}]` : clientHost;
  const namespaceUri = `sb://${hostPart}:${port}`;
  env.namespaceUri = namespaceUri;
  const matches = (entityPath: string, entity: string | undefined): boolean =>
    entity === undefined || entityPath.split('/')[0]!.toLowerCase() === entity.toLowerCase();
  faults.bind({
    dropConnections: (entity) => {
      let dropped = 0;
      for (const context of amqp.connections()) {
        if (entity !== undefined && ![...context.links].some((l) => matches(l.entityPath, entity)))
          continue;
        context.socket.destroy();
        dropped++;
      }
      return dropped;
    },
    detachLinks: (entity, error) => {
      let detached = 0;
      for (const link of amqp.links()) {
        if (link.entityPath.startsWith('$cbs') || link.entityPath.endsWith('/$management'))
          continue;
        if (!matches(link.entityPath, entity)) continue;
        link.detach(error);
        detached++;
      }
      return detached;
    },
    expireMessage: (entity, messageId) =>
      namespace.queue(entity)?.expireWaiting(messageId) ?? false,
    expireLocks: (entity) => {
      let expired = 0;
      for (const queue of namespace.all()) {
        if (!matches(queue.name, entity)) continue;
        for (const lock of queue.sessions?.allLocks() ?? []) {
          queue.sessions!.expireLock(lock);
          expired++;
        }
        for (const lock of queue.allLocks()) {
          queue.releaseLock(lock);
          expired++;
        }
      }
      return expired;
    },
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      amqp.close();
      await listener.close();
      http.close();
      namespace.close();
      await fileJournal?.close();
    })();
    return stopping;
  };
  return {
    host: clientHost,
    port,
    connectionString: `Endpoint=sb://${hostPart}:${port};SharedAccessKeyName=${keyName};SharedAccessKey=${key ?? DEFAULT_KEY};UseDevelopmentEmulator=true`,
    namespaceUri,
    dataDir: options.dataDir,
    faults,
    inspectQueue: (name) => {
      const queue = namespace.queue(name);
      return queue
        ? { name: queue.name, properties: queue.properties, counts: queue.counts() }
        : undefined;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
