import type { CliConfig } from '@tributary/core';
import {
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterStore,
  isQueueError,
} from '@tributary/queue';
import { CliError } from '../cli-error.ts';
import type { CommandContext } from '../command.ts';

/**
 * The dead letters of the configured queue, each call translating an
 * unreachable broker into a message that names it — which transport, where,
 * set by which variable — and what to do. The adapters bound every call by
 * their operation timeout (BullMQ 5 s, Service Bus 10 s), so an unreachable
 * broker is reported within seconds.
 */
export class DeadLetterQueue {
  readonly #context: CommandContext;
  #store: DeadLetterStore | undefined;

  constructor(context: CommandContext) {
    this.#context = context;
  }

  count(): Promise<number> {
    return this.#call('counting the dead letters', (store) => store.count());
  }

  list(filter: DeadLetterFilter): Promise<DeadLetter[]> {
    return this.#call('listing the dead letters', (store) => store.list(filter));
  }

  get(id: string): Promise<DeadLetter | undefined> {
    return this.#call(`reading dead letter ${id}`, (store) => store.get(id));
  }

  /** False when it is no longer a dead letter (requeued or purged meanwhile). */
  requeue(id: string): Promise<boolean> {
    return this.#call(`requeueing dead letter ${id}`, (store) => gone(store.requeue(id)));
  }

  /** False when it is no longer a dead letter (requeued or purged meanwhile). */
  purge(id: string): Promise<boolean> {
    return this.#call(`purging dead letter ${id}`, (store) => gone(store.purge(id)));
  }

  async #call<T>(doing: string, operation: (store: DeadLetterStore) => Promise<T>): Promise<T> {
    try {
      this.#store ??= this.#context.systems.transport().deadLetters();
      return await operation(this.#store);
    } catch (error) {
      if (isQueueError(error) && error.code === 'UNAVAILABLE')
        throw unreachable(this.#context.config, doing, error);
      throw error;
    }
  }
}

/** True once done; false for `NOT_FOUND`. */
async function gone(operation: Promise<void>): Promise<boolean> {
  try {
    await operation;
    return true;
  } catch (error) {
    if (isQueueError(error) && error.code === 'NOT_FOUND') return false;
    throw error;
  }
}

/** The message for a broker that cannot be reached. */
export function unreachable(config: CliConfig, doing: string, cause: Error): CliError {
  const { where, advice } = brokerOf(config);
  return new CliError(
    'UNAVAILABLE',
    `Cannot reach the queue (${where}) while ${doing}: ${cause.message}.\n${advice}`,
    { cause },
  );
}

function brokerOf(config: CliConfig): { where: string; advice: string } {
  if (config.transport === 'bullmq') {
    return {
      where: `BullMQ on Redis at ${hostOf(config.redisUrl)}, REDIS_URL`,
      advice:
        'Check that Redis runs and that REDIS_URL points at the Redis the writers use, then run the command again.',
    };
  }
  const host = config.serviceBusNamespace
    ? `${config.serviceBusNamespace}, SERVICEBUS_NAMESPACE`
    : `${endpointOf(config.serviceBusConnectionString)}, SERVICEBUS_CONNECTION_STRING`;
  return {
    where: `Service Bus queue ${config.queueName} at ${host}`,
    advice:
      'Check that the namespace can be reached from here, that TRIBUTARY_QUEUE_NAME names its queue, and that the credentials may Listen (and Send, to requeue), then run the command again.',
  };
}

/** `host:port` of a Redis URL (validated at start-up), without its credentials. */
function hostOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '6379'}`;
}

/** The endpoint host of a Service Bus connection string, without its key. */
function endpointOf(connectionString: string | undefined): string {
  const match = /Endpoint=sb:\/\/([^;/]+)/i.exec(connectionString ?? '');
  return match?.[1] ?? 'the endpoint of the connection string';
}
