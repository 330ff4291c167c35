import { AmqpDecodeError } from '../amqp/amqp-reader.ts';
import { BATCH_MESSAGE_FORMAT, splitBatch } from '../amqp/batch-envelope.ts';
import { parseMessage, type ParsedMessage } from '../amqp/message-codec.ts';
import { localAttach, type Delivery, type Receiver, type Session } from '../amqp/rhea.ts';
import type { QueueEntity } from '../broker/queue-entity.ts';
import type { StoredMessage } from '../broker/stored-message.ts';
import { EmulatorError, errors, isEmulatorError } from '../emulator-error.ts';
import type { ClientLink } from './connection-context.ts';
import { mirrorTermini, rejectedState, type LinkScope } from './link-support.ts';

/**
 * A client's sending link to a queue (our receiving end). Each transfer is
 * one message, or a batch (format `0x80013700`) whose messages are accepted
 * or refused together, as the service does. The sender is told `accepted`
 * only once the messages are in the journal; an oversized message gets
 * `amqp:link:message-size-exceeded`, an undecodable one `amqp:decode-error`,
 * a message without a session id on a session queue `amqp:not-allowed`.
 */
export class MessageIntake implements ClientLink {
  readonly name: string;
  readonly entityPath: string;
  readonly session: Session;
  private readonly scope: LinkScope;
  private readonly receiver: Receiver;
  private readonly queue: QueueEntity;
  private closed = false;
  /** Why we detached the link: transfers already in flight are refused with it. */
  private detachedWith: { condition: string; description: string } | undefined;

  constructor(scope: LinkScope, receiver: Receiver, queue: QueueEntity) {
    this.scope = scope;
    this.receiver = receiver;
    this.queue = queue;
    this.name = receiver.name;
    this.entityPath = queue.name;
    this.session = receiver.session;
    mirrorTermini(receiver);
    // The SDK's `createMessageBatch` takes its size limit from this (`maxMessageSize`).
    localAttach(receiver)['max_message_size'] = queue.properties.maxMessageSizeBytes;
    receiver.on('receiver_close', () => this.gone());
    receiver.on('message', (context: { delivery: Delivery }) => {
      const payload = scope.takePayload(receiver);
      if (payload) this.received(context.delivery, payload);
      else this.undecodable(context.delivery);
    });
    scope.context.add(this);
  }

  /** A complete transfer arrived: `payload` is its bytes as sent. */
  received(delivery: Delivery, payload: Buffer): void {
    if (this.closed) {
      // Sent before the client saw our detach: refuse it with the detach's
      // error, so the client retries instead of waiting for an answer.
      delivery.update(
        true,
        rejectedState(
          this.detachedWith ?? {
            condition: 'amqp:link:detach-forced',
            description: 'The link was detached.',
          },
        ),
      );
      return;
    }
    let messages: StoredMessage[];
    try {
      messages = this.admitCheck(delivery, payload);
    } catch (error) {
      this.refuse(delivery, error);
      return;
    }
    this.scope.env.journal.barrier().then(
      () => {
        for (const message of messages) this.queue.admit(message);
        // Stored: tell the client, even if the link was detached meanwhile.
        if (this.receiver.session.is_open()) delivery.accept();
      },
      (error: unknown) => this.refuse(delivery, error),
    );
  }

  /** A transfer rhea could not decode. */
  undecodable(delivery: Delivery): void {
    this.refuse(
      delivery,
      errors.decode(this.entityPath, 'The message could not be decoded as an AMQP 1.0 message.'),
    );
  }

  detach(error: { condition: string; description: string }): void {
    if (this.closed) return;
    this.detachedWith = error;
    this.receiver.close(error);
    this.gone();
  }

  gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.scope.context.remove(this);
  }

  private admitCheck(delivery: Delivery, payload: Buffer): StoredMessage[] {
    this.scope.env.faults.checkBusy('send', this.entityPath);
    const limit = this.queue.properties.maxMessageSizeBytes;
    if (payload.length > limit)
      throw errors.messageSizeExceeded(this.entityPath, delivery.id, payload.length, limit);
    let encoded: Buffer[];
    if ((delivery.format ?? 0) === 0) encoded = [payload];
    else if (delivery.format === BATCH_MESSAGE_FORMAT) encoded = splitBatch(payload);
    else
      throw errors.notImplemented(
        this.entityPath,
        `Message format ${delivery.format} is not supported.`,
      );
    const parsed: ParsedMessage[] = encoded.map(parseMessage);
    if (this.queue.sessions) {
      for (const message of parsed)
        if (message.sessionId === undefined) throw errors.sessionIdRequired(this.entityPath);
    }
    const accepted: StoredMessage[] = [];
    for (const message of parsed) {
      const stored = this.queue.accept(message);
      if (stored) accepted.push(stored);
    }
    return accepted;
  }

  private refuse(delivery: Delivery, error: unknown): void {
    let refusal: EmulatorError;
    if (isEmulatorError(error)) refusal = error;
    else if (error instanceof AmqpDecodeError)
      refusal = errors.decode(
        this.entityPath,
        `The message could not be decoded: ${error.message}.`,
      );
    else {
      this.scope.env.onInternalError(error);
      refusal = new EmulatorError(
        'amqp:internal-error',
        'The emulator failed to store the message.',
      );
    }
    if (this.receiver.session.is_open())
      delivery.update(true, rejectedState(refusal.toAmqpError()));
  }
}
