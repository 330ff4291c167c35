import { ServiceBusClient, type ServiceBusClientOptions } from '@azure/service-bus';
import type {
  BatchPublisher,
  ClaimOptions,
  DeadLetterStore,
  PartitionClaims,
  PartitionHolder,
  MessagingNames,
  QueueTransport,
} from '../transport.ts';
import { ServiceBusDeadLetters } from './servicebus-dead-letters.ts';
import {
  resolveServiceBusOptions,
  type ResolvedServiceBusOptions,
  type ServiceBusTransportOptions,
} from './servicebus-options.ts';
import { ServiceBusPartitionClaims } from './servicebus-partition-claims.ts';
import { ServiceBusPublisher } from './servicebus-publisher.ts';
import { bestEffort } from './translate-error.ts';
import { holdersOf, readRegistry } from './writer-registry.ts';

/**
 * The transport on Azure Service Bus: one session-enabled queue, partition
 * `n` is the session `p<n>`, owned by the writer holding its session lock.
 * Opens one AMQP connection (the SDK's, shared by every sender and
 * receiver of this transport) on first use.
 */
export function createServiceBusTransport(options: ServiceBusTransportOptions): QueueTransport {
  return new ServiceBusTransport(resolveServiceBusOptions(options));
}

/**
 * The SDK retries what it knows to be transient (throttling, a dropped
 * connection) within an operation; this bounds one operation, retries
 * included, by about `operationTimeoutMs`, after which the port's callers
 * retry on their own schedule with their readiness reasons.
 */
function clientOptions(options: ResolvedServiceBusOptions): ServiceBusClientOptions {
  const attempts = 3;
  return {
    retryOptions: {
      maxRetries: attempts - 1,
      timeoutInMs: Math.max(1000, Math.round(options.operationTimeoutMs / attempts)),
      retryDelayInMs: 100,
      maxRetryDelayInMs: 1000,
    },
  };
}

class ServiceBusTransport implements QueueTransport {
  readonly partitionCount: number;
  readonly messaging: MessagingNames;
  readonly #options: ResolvedServiceBusOptions;
  readonly #client: ServiceBusClient;
  readonly #publishers = new Set<ServiceBusPublisher>();
  readonly #claims = new Set<ServiceBusPartitionClaims>();
  #deadLetters: ServiceBusDeadLetters | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: ResolvedServiceBusOptions) {
    this.#options = options;
    this.partitionCount = options.partitionCount;
    // Every partition is a session of the one queue.
    this.messaging = { system: 'servicebus', destinationOf: () => options.queueName };
    const settings = clientOptions(options);
    this.#client = options.connectionString
      ? new ServiceBusClient(options.connectionString, settings)
      : new ServiceBusClient(
          options.fullyQualifiedNamespace as string,
          // resolveServiceBusOptions refuses a namespace without a credential.
          options.credential as NonNullable<ResolvedServiceBusOptions['credential']>,
          settings,
        );
  }

  publisher(): BatchPublisher {
    this.#assertOpen();
    const publisher = new ServiceBusPublisher(
      this.#client.createSender(this.#options.queueName),
      this.#options,
    );
    this.#publishers.add(publisher);
    return publisher;
  }

  claims(options: ClaimOptions): PartitionClaims {
    this.#assertOpen();
    const claims = new ServiceBusPartitionClaims(
      { client: this.#client, options: this.#options },
      options,
    );
    this.#claims.add(claims);
    return claims;
  }

  deadLetters(): DeadLetterStore {
    this.#assertOpen();
    this.#deadLetters ??= new ServiceBusDeadLetters(this.#client, this.#options);
    return this.#deadLetters;
  }

  /**
   * The holders as the writers last recorded them in their registry: the
   * service does not tell who holds a session's lock (only that someone
   * does, to a writer that tries to accept it), so this may be a renewal
   * interval behind a hand-over, and a writer that died is listed until
   * its entry's end (about two lock durations after its last update).
   */
  async owners(): Promise<Map<number, PartitionHolder>> {
    this.#assertOpen();
    const { queueName, operationTimeoutMs, onBackgroundError } = this.#options;
    const writers = await readRegistry({
      client: this.#client,
      queueName,
      operationTimeoutMs,
      onBackgroundError,
    });
    return holdersOf(writers, Date.now());
  }

  /**
   * Stops every claims object (closing its sessions, which returns held
   * batches at once), waits for publishes in flight, then closes the
   * connection. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const report = this.#options.onBackgroundError;
    await Promise.all([...this.#claims].map((claims) => claims.stop()));
    await Promise.all(
      [...this.#publishers].map((publisher) =>
        bestEffort('closing a publisher', () => publisher.close(), report),
      ),
    );
    await bestEffort('closing the Service Bus connection', () => this.#client.close(), report);
  }

  #assertOpen(): void {
    if (this.#closing) throw new Error('This transport is closed.');
  }
}
