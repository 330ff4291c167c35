import {
  ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from '@azure/service-bus';
import {
  type QueueProperties,
  type ServiceBusEmulator,
  startServiceBusEmulator,
} from '@tributary/emulator-servicebus';
import Long from 'long';
import { type QueuedBatch, eventsOfBody } from '../queued-batches.ts';
import type { ChaosQueue, DeadLetterRecord } from './chaos-queue.ts';

/** Messages read per peek. */
const PAGE = 250;

/**
 * The queue as Tributary's README says to create it, with the pipeline's
 * 2 s lease as its lock duration.
 */
function queueProperties(lockDurationMs: number): Partial<QueueProperties> {
  return {
    requiresSession: true,
    lockDurationMs,
    maxDeliveryCount: 100,
    requiresDuplicateDetection: true,
    duplicateDetectionHistoryTimeWindowMs: 10 * 60_000,
    deadLetteringOnMessageExpiration: true,
  };
}

/**
 * One session-enabled queue on the Service Bus emulator, run in this
 * process. A lost batch is a waiting message expired before its time (as
 * the service expires one whose time to live ran out: it goes to the
 * dead-letter subqueue with `TTLExpiredException`); restarting empty is the
 * queue deleted and created again (the emulator restarted without data on
 * its port). The harness reads the queue through the official SDK, peeking.
 */
export class ServiceBusChaosQueue implements ChaosQueue {
  readonly transport = 'servicebus';
  readonly restartEmptyWords = 'delete and recreate the Service Bus queue';
  readonly loseWords = 'expire';
  readonly env: Readonly<Record<string, string>>;
  readonly #queueName: string;
  readonly #partitionCount: number;
  readonly #properties: Partial<QueueProperties>;
  readonly #expired = new Set<string>();
  #emulator: ServiceBusEmulator;
  #client: ServiceBusClient;

  private constructor(
    emulator: ServiceBusEmulator,
    queueName: string,
    partitionCount: number,
    properties: Partial<QueueProperties>,
  ) {
    this.#emulator = emulator;
    this.#client = new ServiceBusClient(emulator.connectionString);
    this.#queueName = queueName;
    this.#partitionCount = partitionCount;
    this.#properties = properties;
    this.env = {
      TRIBUTARY_TRANSPORT: 'servicebus',
      SERVICEBUS_CONNECTION_STRING: emulator.connectionString,
    };
  }

  static async start(
    queueName: string,
    partitionCount: number,
    lockDurationMs: number,
  ): Promise<ServiceBusChaosQueue> {
    const properties = queueProperties(lockDurationMs);
    const emulator = await startServiceBusEmulator({ queues: { [queueName]: properties } });
    return new ServiceBusChaosQueue(emulator, queueName, partitionCount, properties);
  }

  /**
   * Partition `p`'s messages, oldest first, without the first: a peek shows
   * the message a writer holds too, and the fault holds the owner in the
   * middle of a flush, so the first message of the session is the one in
   * its hand — which the service would not expire, and neither does the
   * emulator.
   */
  async waitingBatches(partition: number): Promise<QueuedBatch[]> {
    const session = `p${partition}`;
    const messages = await this.#peekAll(
      this.#client.createReceiver(this.#queueName, { skipParsingBodyAsJson: true }),
    );
    return messages
      .filter((message) => message.sessionId === session)
      .slice(1)
      .map((message) => ({
        id: String(message.messageId),
        events:
          message.body instanceof Uint8Array
            ? eventsOfBody(message.body, this.#partitionCount)
            : undefined,
      }));
  }

  async loseWaitingBatch(_partition: number, id: string): Promise<boolean> {
    const expired = this.#emulator.faults.expireMessage(this.#queueName, id);
    if (expired) this.#expired.add(id);
    return expired;
  }

  isLostByFault(record: DeadLetterRecord): boolean {
    return this.#expired.has(record.id) && record.reason.startsWith('TTLExpiredException');
  }

  async restartEmpty(downForMs: number): Promise<void> {
    const port = this.#emulator.port;
    await this.#client.close();
    await this.#emulator.stop();
    await new Promise((resolve) => setTimeout(resolve, downForMs));
    this.#emulator = await startServiceBusEmulator({
      port,
      queues: { [this.#queueName]: this.#properties },
    });
    this.#client = new ServiceBusClient(this.#emulator.connectionString);
    this.#expired.clear();
  }

  async deadLetters(): Promise<DeadLetterRecord[]> {
    const messages = await this.#peekAll(
      this.#client.createReceiver(this.#queueName, {
        subQueueType: 'deadLetter',
        skipParsingBodyAsJson: true,
      }),
    );
    return messages.map((message) => ({
      partition: Number(/^p(\d+)$/.exec(message.sessionId ?? '')?.[1] ?? -1),
      id: String(message.messageId),
      reason: [message.deadLetterReason, message.deadLetterErrorDescription]
        .filter((part) => part)
        .join(': '),
    }));
  }

  async close(): Promise<void> {
    await this.#client.close();
    await this.#emulator.stop();
  }

  /** Every message of the receiver's (sub)queue, peeked from the first sequence number on. */
  async #peekAll(receiver: ServiceBusReceiver): Promise<ServiceBusReceivedMessage[]> {
    const all: ServiceBusReceivedMessage[] = [];
    try {
      let from = Long.ZERO;
      for (;;) {
        // An explicit start: the SDK would otherwise go on from its last peek of this entity.
        const page = await receiver.peekMessages(PAGE, { fromSequenceNumber: from });
        const last = page.at(-1);
        if (!last?.sequenceNumber) return all;
        all.push(...page);
        from = last.sequenceNumber.add(1);
      }
    } finally {
      await receiver.close();
    }
  }
}
