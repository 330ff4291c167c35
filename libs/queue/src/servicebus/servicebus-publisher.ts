import type {
  ServiceBusMessage,
  ServiceBusMessageBatch,
  ServiceBusSender,
} from '@azure/service-bus';
import { QueueError } from '../queue-error.ts';
import type { BatchPublisher, OutgoingBatch } from '../transport.ts';
import { messageOf } from './batch-message.ts';
import type { ResolvedServiceBusOptions } from './servicebus-options.ts';
import { bestEffort, translateError, translated } from './translate-error.ts';

/**
 * Room kept in each message for what travels besides the batch body: the
 * message id, session id and content type, and the propagated headers (a
 * W3C `tracestate` may be 512 characters). The queue's limit counts the
 * whole message.
 */
export const MESSAGE_ENVELOPE_BYTES = 4096;

interface Pending {
  readonly message: ServiceBusMessage;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** One partition's publishes, sent in call order. */
interface Line {
  readonly pending: Pending[];
  sending: Promise<void> | undefined;
}

/**
 * Publishes batches as messages of the partition's session. Publishes of
 * one partition are sent in call order; those that queue up while a send
 * is in flight go together in the next `createMessageBatch` (one session
 * per send, as the service requires), which is how a busy partition keeps
 * up without waiting a round trip per batch.
 */
export class ServiceBusPublisher implements BatchPublisher {
  readonly #sender: ServiceBusSender;
  readonly #options: ResolvedServiceBusOptions;
  readonly #lines = new Map<number, Line>();
  #limit: number | undefined;
  #ready: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(sender: ServiceBusSender, options: ResolvedServiceBusOptions) {
    this.#sender = sender;
    this.#options = options;
  }

  /**
   * The largest batch body: the queue's message size limit (read by
   * {@link ready}) less {@link MESSAGE_ENVELOPE_BYTES}, and never more than
   * the configured `maxBatchBytes`. Before `ready`, the configured bound.
   */
  get maxBatchBytes(): number {
    return this.#limit ?? this.#options.maxBatchBytes;
  }

  /** Opens the sender's link and reads the queue's message size limit from it. */
  ready(): Promise<void> {
    if (this.#closing) return Promise.reject(new Error('This publisher is closed.'));
    this.#ready ??= translated(
      'connecting to the queue',
      async (abortSignal) => {
        const probe = await this.#sender.createMessageBatch({ abortSignal });
        this.#limit = Math.min(
          this.#options.maxBatchBytes,
          probe.maxSizeInBytes - MESSAGE_ENVELOPE_BYTES,
        );
      },
      this.#options.operationTimeoutMs,
    ).catch((error: unknown) => {
      // Not reached this time: the next call tries again.
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /**
   * Resolves once the service has stored the batch.
   *
   * @throws QueueError `TOO_LARGE` above {@link maxBatchBytes}; `UNAVAILABLE`
   *   when the service did not confirm in time. The batch may still land:
   *   publish the same batch again before later ones — its message id is
   *   the same, so the queue's duplicate detection drops the copy, and a
   *   writer drops a late one by its checkpoint. A failed send also fails
   *   every publish queued behind it on the partition, so none of them can
   *   land ahead of it.
   */
  async publish(batch: OutgoingBatch): Promise<void> {
    if (this.#closing) throw new Error('This publisher is closed.');
    const { partition } = batch;
    if (
      !Number.isInteger(partition) ||
      partition < 0 ||
      partition >= this.#options.partitionCount
    ) {
      throw new RangeError(
        `partition must be 0…${this.#options.partitionCount - 1} (got ${partition})`,
      );
    }
    await this.ready();
    if (batch.body.byteLength > this.maxBatchBytes) {
      throw new QueueError(
        'TOO_LARGE',
        `Batch of partition ${partition} is ${batch.body.byteLength} bytes; the limit is ${this.maxBatchBytes}.`,
      );
    }
    const line = this.#lineOf(partition);
    const sent = new Promise<void>((resolve, reject) =>
      line.pending.push({ message: messageOf(batch), resolve, reject }),
    );
    line.sending ??= this.#drain(partition, line);
    return sent;
  }

  /** Waits for every send in flight, then closes the sender. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#lines.values()].map((line) => line.sending));
      await bestEffort(
        'closing the sender',
        () => this.#sender.close(),
        this.#options.onBackgroundError,
      );
    })();
    return this.#closing;
  }

  #lineOf(partition: number): Line {
    let line = this.#lines.get(partition);
    if (!line) this.#lines.set(partition, (line = { pending: [], sending: undefined }));
    return line;
  }

  /** Sends what the line holds, a message batch at a time, until it is empty. */
  async #drain(partition: number, line: Line): Promise<void> {
    try {
      while (line.pending.length > 0) {
        let items: Pending[] = [];
        try {
          await translated(
            `publishing to partition ${partition}`,
            async (abortSignal) => {
              const batch = await this.#sender.createMessageBatch({ abortSignal });
              items = takeWhatFits(batch, line);
              if (items.length > 0) await this.#sender.sendMessages(batch, { abortSignal });
            },
            this.#options.operationTimeoutMs,
          );
          for (const item of items) item.resolve();
        } catch (error) {
          const failure = translateError(error, `publishing to partition ${partition}`);
          for (const item of [...items, ...line.pending.splice(0)]) item.reject(failure);
        }
      }
    } finally {
      line.sending = undefined;
    }
  }
}

/**
 * Moves from the head of the line into `batch` as many messages as it holds.
 * A message that does not fit an empty batch (its headers grew past
 * {@link MESSAGE_ENVELOPE_BYTES}) is refused alone with `TOO_LARGE`.
 */
function takeWhatFits(batch: ServiceBusMessageBatch, line: Line): Pending[] {
  const items: Pending[] = [];
  while (line.pending.length > 0) {
    const next = line.pending[0] as Pending;
    if (!batch.tryAddMessage(next.message)) break;
    items.push(next);
    line.pending.shift();
  }
  if (items.length === 0) {
    const refused = line.pending.shift() as Pending;
    refused.reject(
      new QueueError('TOO_LARGE', 'The batch with its headers exceeds the queue’s message size.'),
    );
  }
  return items;
}
