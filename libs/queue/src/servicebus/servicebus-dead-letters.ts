import type {
  ServiceBusClient,
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
} from '@azure/service-bus';
import Long from 'long';
import { QueueError } from '../queue-error.ts';
import {
  REQUEUED_AT_HEADER,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterStore,
} from '../transport.ts';
import {
  BATCH_CONTENT_TYPE,
  DEAD_LETTERED_AT_PROPERTY,
  EVENTS_IN_LAKE_PROPERTY,
  FAILED_ATTEMPTS_PROPERTY,
  FIRST_FAILED_AT_PROPERTY,
  bodyOf,
  deliveredIdOf,
  eventsInLakeOf,
  headersOf,
} from './batch-message.ts';
import type { ResolvedServiceBusOptions } from './servicebus-options.ts';
import { partitionOfSession } from './session-names.ts';
import { bestEffort, translated } from './translate-error.ts';

/** Messages read per round trip while scanning the dead-letter subqueue. */
const PAGE = 100;
/** How long a scan waits for the next message before it takes the subqueue as read. */
const SCAN_WAIT_MS = 1000;

/**
 * Dead letters in the queue's own dead-letter subqueue (`<queue>/$DeadLetterQueue`,
 * which takes no sessions): the writer's, with `DeadLetterReason` (the
 * reason's first line) and `DeadLetterErrorDescription` (all of it) and
 * Tributary's record of the events already in the lake; and the service's
 * own — `MaxDeliveryCountExceeded` (a batch whose writers kept dying), and
 * `TTLExpiredException` (a batch that outlived the queue's time to live),
 * which the writers' gap healing has replaced by a re-read.
 *
 * Listing and purging need only `Listen`; requeue also `Send`. Counting without the
 * `Manage` right means reading the subqueue through, which is what an
 * operator's command does, not a service.
 */
export class ServiceBusDeadLetters implements DeadLetterStore {
  readonly #client: ServiceBusClient;
  readonly #options: ResolvedServiceBusOptions;

  constructor(client: ServiceBusClient, options: ResolvedServiceBusOptions) {
    this.#client = client;
    this.#options = options;
  }

  async count(): Promise<number> {
    let count = 0;
    await this.#peekAll(() => {
      count += 1;
      return true;
    });
    return count;
  }

  /** Oldest first (the subqueue's order), from `since` on; all of them unless `limit` is given. */
  async list(options: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    const listed: DeadLetter[] = [];
    const limit = options.limit ?? Infinity;
    if (limit <= 0) return listed;
    const since = options.since?.getTime() ?? -Infinity;
    await this.#peekAll((message) => {
      const letter = deadLetterOf(message);
      if (
        (options.partition === undefined || letter.partition === options.partition) &&
        letter.deadLetteredAt.getTime() >= since
      )
        listed.push(letter);
      return listed.length < limit;
    });
    return listed;
  }

  /** Peeks through the subqueue (nothing is locked) until the dead letter with `id`. */
  async get(id: string): Promise<DeadLetter | undefined> {
    let found: DeadLetter | undefined;
    await this.#peekAll((message) => {
      if (deliveredIdOf(message) === id) found = deadLetterOf(message);
      return found === undefined;
    });
    return found;
  }

  /**
   * Sends a copy of the dead letter to its partition's session — at the
   * back of the line, with {@link REQUEUED_AT_HEADER} and the record of
   * what is in the lake — then completes the dead letter. A failure between
   * the two leaves both: the copy's message id is derived from the dead
   * letter's sequence number, so requeueing again is dropped by duplicate
   * detection, and a second replay writes nothing the first wrote.
   *
   * @throws QueueError `NOT_FOUND` when no dead letter has this id.
   */
  async requeue(id: string): Promise<void> {
    await this.#settleOne(id, async (found) => {
      const sender = this.#client.createSender(this.#options.queueName);
      try {
        await translated(
          `requeueing dead letter ${id}`,
          (abortSignal) =>
            sender.sendMessages(
              {
                body: Buffer.from(bodyOf(found)),
                messageId: `${id}.r${String(found.sequenceNumber)}`.slice(0, 128),
                ...(found.sessionId === undefined ? {} : { sessionId: found.sessionId }),
                contentType: found.contentType ?? BATCH_CONTENT_TYPE,
                applicationProperties: {
                  ...headersOf(found),
                  [REQUEUED_AT_HEADER]: new Date().toISOString(),
                  ...copied(found, EVENTS_IN_LAKE_PROPERTY),
                },
              },
              { abortSignal },
            ),
          this.#options.operationTimeoutMs,
        );
      } finally {
        await bestEffort('closing the requeue sender', () => sender.close(), this.#report);
      }
      return `removing dead letter ${id}`;
    });
  }

  /**
   * Receives the dead letter with `id` and completes it: only that one;
   * the others received on the way are abandoned at once, as in
   * {@link requeue}.
   *
   * @throws QueueError `NOT_FOUND` when no dead letter has this id.
   */
  async purge(id: string): Promise<void> {
    await this.#settleOne(id, async () => `purging dead letter ${id}`);
  }

  /**
   * Locks the dead letter with `id`, runs `before` on it (which says what
   * completing it means, for errors), then completes it. Every other
   * message locked on the way is abandoned, so it is at once visible again.
   */
  async #settleOne(
    id: string,
    before: (found: ServiceBusReceivedMessage) => Promise<string>,
  ): Promise<void> {
    const receiver = this.#receiver();
    const passed: ServiceBusReceivedMessage[] = [];
    try {
      const found = await this.#find(receiver, id, passed);
      if (!found) {
        throw new QueueError('NOT_FOUND', `No dead letter has the id ${id}.`);
      }
      const doing = await before(found);
      await translated(
        doing,
        () => receiver.completeMessage(found),
        this.#options.operationTimeoutMs,
      );
    } finally {
      // Messages looked at on the way are let go at once, not left locked.
      for (const message of passed) {
        await bestEffort(
          'releasing a dead letter',
          () => receiver.abandonMessage(message),
          this.#report,
        );
      }
      await bestEffort('closing the dead-letter receiver', () => receiver.close(), this.#report);
    }
  }

  #receiver(): ServiceBusReceiver {
    return this.#client.createReceiver(this.#options.queueName, {
      subQueueType: 'deadLetter',
      receiveMode: 'peekLock',
      skipParsingBodyAsJson: true,
    });
  }

  /** Receives (locks) dead letters until the one with `id`; the others go to `passed`. */
  async #find(
    receiver: ServiceBusReceiver,
    id: string,
    passed: ServiceBusReceivedMessage[],
  ): Promise<ServiceBusReceivedMessage | undefined> {
    for (;;) {
      const page = await translated(
        'reading the dead letters',
        (abortSignal) =>
          receiver.receiveMessages(PAGE, { maxWaitTimeInMs: SCAN_WAIT_MS, abortSignal }),
        SCAN_WAIT_MS + this.#options.operationTimeoutMs,
      );
      if (page.length === 0) return undefined;
      for (const message of page) {
        if (deliveredIdOf(message) === id) {
          passed.push(...page.filter((other) => other !== message));
          return message;
        }
      }
      passed.push(...page);
    }
  }

  /** Peeks the whole subqueue in order, while `visit` returns true. */
  async #peekAll(visit: (message: ServiceBusReceivedMessage) => boolean): Promise<void> {
    const receiver = this.#receiver();
    try {
      // Always from an explicit position: without one the SDK goes on after
      // the last message any peek of this entity on the connection returned.
      let from = Long.ZERO;
      for (;;) {
        const fromSequenceNumber = from;
        const page = await translated(
          'reading the dead letters',
          (abortSignal) => receiver.peekMessages(PAGE, { fromSequenceNumber, abortSignal }),
          this.#options.operationTimeoutMs,
        );
        const last = page.at(-1);
        if (!last) return;
        for (const message of page) if (!visit(message)) return;
        from = Long.fromValue(last.sequenceNumber ?? from).add(1);
      }
    } finally {
      await bestEffort('closing the dead-letter receiver', () => receiver.close(), this.#report);
    }
  }

  readonly #report = (error: QueueError): void => this.#options.onBackgroundError(error);
}

/** A dead-lettered message as the port describes it. */
function deadLetterOf(message: ServiceBusReceivedMessage): DeadLetter {
  const properties = message.applicationProperties ?? {};
  const attempts = properties[FAILED_ATTEMPTS_PROPERTY];
  const at = properties[DEAD_LETTERED_AT_PROPERTY];
  const first = properties[FIRST_FAILED_AT_PROPERTY];
  const firstFailedAt = typeof first === 'string' ? new Date(first) : undefined;
  return {
    id: deliveredIdOf(message),
    partition: partitionOfSession(message.sessionId) ?? -1,
    body: bodyOf(message),
    reason: reasonOf(message),
    eventsInLake: eventsInLakeOf(message),
    // The service's own dead letters carry no record: their deliveries are what failed.
    failedAttempts: typeof attempts === 'number' ? attempts : (message.deliveryCount ?? 0),
    // Absent on the service's own dead letters: no writer saw those fail.
    ...(firstFailedAt && !Number.isNaN(firstFailedAt.getTime()) ? { firstFailedAt } : {}),
    deadLetteredAt:
      typeof at === 'string' ? new Date(at) : (message.enqueuedTimeUtc ?? new Date(0)),
    headers: headersOf(message),
  };
}

/** The writer's whole reason (its description), or the service's reason with its description. */
function reasonOf(message: ServiceBusReceivedMessage): string {
  const reason = message.deadLetterReason ?? '';
  const description = message.deadLetterErrorDescription ?? '';
  if (description.startsWith(reason.replace(/…$/, ''))) return description || reason;
  return description ? `${reason}: ${description}` : reason;
}

function copied(message: ServiceBusReceivedMessage, property: string): Record<string, string> {
  const value = message.applicationProperties?.[property];
  return typeof value === 'string' ? { [property]: value } : {};
}
