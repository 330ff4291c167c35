import { dotnetTicks, newLockToken } from '../amqp/lock-token.ts';
import type { PropertyValue } from '../amqp/application-properties.ts';
import {
  answerDrains,
  flushDrain,
  isAttachHeld,
  linkCredit,
  localAttach,
  outgoingRoom,
  releaseAttach,
  remoteAttach,
  settleAndForget,
  transferredCount,
  types,
  holdAttach,
  type Delivery,
  type Sender,
  type Session,
} from '../amqp/rhea.ts';
import type { MessageSession } from '../broker/message-sessions.ts';
import type { PropertiesToModify, QueueEntity } from '../broker/queue-entity.ts';
import type { SessionHolder } from '../broker/session-coordinator.ts';
import { encodeStoredMessage, type MessageLock } from '../broker/stored-message.ts';
import type { Subqueue } from '../broker/subqueue.ts';
import { EmulatorError, errors, isEmulatorError } from '../emulator-error.ts';
import type { ClientLink } from './connection-context.ts';
import {
  acceptedState,
  modifiedState,
  refuseAttach,
  rejectedState,
  type LinkScope,
} from './link-support.ts';

const SESSION_FILTER = 'com.microsoft:session-filter';
const LOCKED_UNTIL = 'com.microsoft:locked-until-utc';
const TIMEOUT = 'com.microsoft:timeout';
/** The service's wait for "next available session" when the client names none (1 min 5 s). */
const DEFAULT_SESSION_WAIT_MS = 65_000;

type Mode = 'peekLock' | 'receiveAndDelete';
type Outcome = 'accepted' | 'rejected' | 'modified' | 'released';

interface RemoteOutcome {
  error?: { condition?: string; description?: string; info?: Record<string, unknown> };
  undeliverable_here?: boolean;
  message_annotations?: Record<string, unknown>;
}

/** What a client's receiving link asked for in its attach. */
interface ReceiveRequest {
  mode: Mode;
  /** Present when the source carries `com.microsoft:session-filter`: a session id, or `null` for "next available". */
  session: string | null | undefined;
  timeoutMs: number;
}

function readRequest(sender: Sender): ReceiveRequest {
  const attach = remoteAttach(sender);
  const source = attach['source'] as { filter?: Record<string, unknown> } | null | undefined;
  const filter = source?.filter;
  const session =
    filter && SESSION_FILTER in filter
      ? ((filter[SESSION_FILTER] as string | null | undefined) ?? null)
      : undefined;
  const properties = attach['properties'] as Record<string, unknown> | undefined;
  const timeout = Number(properties?.[TIMEOUT]);
  return {
    mode: attach['snd_settle_mode'] === 1 ? 'receiveAndDelete' : 'peekLock',
    session: typeof session === 'string' || session === null ? session : undefined,
    timeoutMs:
      Number.isFinite(timeout) && timeout >= 0
        ? Math.min(timeout, 600_000)
        : DEFAULT_SESSION_WAIT_MS,
  };
}

function propertiesOf(
  map: Record<string, unknown> | undefined,
  skip: readonly string[] = [],
): PropertiesToModify | undefined {
  if (!map) return undefined;
  const out: Record<string, PropertyValue> = {};
  for (const [key, value] of Object.entries(map)) {
    if (skip.includes(key) || value === undefined) continue;
    if (
      value === null ||
      ['string', 'number', 'boolean'].includes(typeof value) ||
      value instanceof Date ||
      Buffer.isBuffer(value)
    )
      out[key] = value as PropertyValue;
  }
  return out;
}

/**
 * A client's receiving link on a queue or its dead-letter subqueue (our
 * sending end): peek-lock (the lock token is the delivery tag, in .NET GUID
 * order) or receive-and-delete, credit as the client grants it, drains
 * answered, settlements applied and answered with the settled outcome (or
 * the service's error) once journaled. On a session queue the link holds one
 * session's lock.
 */
export class MessageDelivery implements ClientLink, SessionHolder {
  readonly name: string;
  readonly entityPath: string;
  readonly session: Session;
  private readonly scope: LinkScope;
  private readonly sender: Sender;
  private readonly queue: QueueEntity;
  private readonly subqueue: Subqueue;
  private readonly mode: Mode;
  private readonly locks = new Map<Delivery, MessageLock>();
  private messageSession: MessageSession | undefined;
  private withdraw: (() => void) | undefined;
  /** Deliveries handed to rhea (transferred or queued). */
  private sent = 0;
  private attached = false;
  private closed = false;
  /** Set once this link's session lock was lost: settlements then answer session-lock-lost. */
  private sessionLostError: EmulatorError | undefined;

  private constructor(
    scope: LinkScope,
    sender: Sender,
    queue: QueueEntity,
    subqueue: Subqueue,
    mode: Mode,
  ) {
    this.scope = scope;
    this.sender = sender;
    this.queue = queue;
    this.subqueue = subqueue;
    this.mode = mode;
    this.name = sender.name;
    this.entityPath = subqueue.entityPath;
    this.session = sender.session;
    answerDrains(sender, (credit) => {
      this.sent += credit;
    });
    sender.on('sender_flow', () => this.pump());
    sender.on('sendable', () => this.pump());
    for (const outcome of ['accepted', 'rejected', 'modified', 'released'] as const)
      sender.on(outcome, (context: { delivery: Delivery }) =>
        this.settle(outcome, context.delivery),
      );
    sender.on('sender_close', () => this.gone());
    scope.context.add(this);
  }

  /** Serves a client's receiving link: answers its attach now, or (next available session) when one is free. */
  static open(scope: LinkScope, sender: Sender, queue: QueueEntity, subqueue: Subqueue): void {
    const request = readRequest(sender);
    const sessions = subqueue.kind === 'main' ? queue.sessions : undefined;
    if (sessions && request.session === undefined)
      return refuseAttach(sender, errors.sessionfulReceiverRequired(queue.name));
    if (!sessions && request.session !== undefined)
      return refuseAttach(sender, errors.sessionsNotSupported(subqueue.entityPath));
    const link = new MessageDelivery(scope, sender, queue, subqueue, request.mode);
    if (!sessions) return link.answer(undefined);
    if (typeof request.session === 'string') {
      try {
        return link.answer(sessions.accept(request.session, link));
      } catch (error) {
        link.gone();
        return refuseAttach(
          sender,
          isEmulatorError(error)
            ? error
            : errors.sessionCannotBeLocked(queue.name, request.session),
        );
      }
    }
    holdAttach(sender);
    link.withdraw = sessions.acceptNext(link, request.timeoutMs, (session) => {
      link.withdraw = undefined;
      if (link.closed) {
        if (session) sessions.release(session, link);
        return;
      }
      // No session in time: gone() answers the held attach with the timeout.
      if (session) link.answer(session);
      else link.gone();
    });
  }

  /** Messages may be available: send what the credit allows. */
  notify(): void {
    this.pump();
  }

  sessionLost(_session: MessageSession, error: EmulatorError): void {
    this.messageSession = undefined;
    this.sessionLostError = error;
    this.detach(error.toAmqpError());
  }

  detach(error: { condition: string; description: string }): void {
    if (this.closed) return;
    if (isAttachHeld(this.sender))
      refuseAttach(this.sender, new EmulatorError(error.condition as never, error.description));
    else this.sender.close(error);
    this.gone();
  }

  gone(abrupt = false): void {
    if (this.closed) return;
    this.closed = true;
    this.withdraw?.();
    // "The lock is released when the receiver is closed, or when it expires
    // if the application could not close it" (Service Bus message sessions).
    if (this.messageSession && !abrupt) this.queue.sessions?.release(this.messageSession, this);
    else if (!this.messageSession) this.queue.detach(this.subqueue, this);
    this.scope.context.remove(this);
    // A peek-lock outside a session outlives its link: the message comes
    // back when the lock expires, and can still be settled by lock token.
    // Settlements still arriving on this link are answered from `locks`.
    if (isAttachHeld(this.sender))
      refuseAttach(this.sender, errors.noSessionAvailable(this.queue.name));
  }

  private answer(session: MessageSession | undefined): void {
    const remote = remoteAttach(this.sender);
    const source = (remote['source'] ?? {}) as {
      address?: string;
      filter?: Record<string, unknown>;
    };
    this.sender.set_source({
      address: source.address ?? this.entityPath,
      ...(session
        ? { filter: { [SESSION_FILTER]: session.id } }
        : source.filter
          ? { filter: source.filter }
          : {}),
    } as never);
    this.sender.set_target((remote['target'] ?? {}) as never);
    const local = localAttach(this.sender);
    local['snd_settle_mode'] = remote['snd_settle_mode'] ?? 2;
    local['rcv_settle_mode'] = remote['rcv_settle_mode'] ?? 0;
    if (session?.lock)
      local['properties'] = {
        [LOCKED_UNTIL]: types.wrap_long(dotnetTicks(session.lock.lockedUntilMs)),
      };
    if (isAttachHeld(this.sender)) releaseAttach(this.sender);
    this.attached = true;
    this.messageSession = session;
    if (!session) this.queue.attach(this.subqueue, this);
    else this.queue.wake(this);
  }

  private room(): number {
    const credit = linkCredit(this.sender) - (this.sent - transferredCount(this.sender));
    return Math.min(credit, outgoingRoom(this.sender.session));
  }

  private pump(): void {
    if (!this.attached || this.closed || !this.sender.is_open()) return;
    let room = this.room();
    let first = true;
    while (room > 0) {
      const message = this.messageSession
        ? this.queue.sessions!.take(this.messageSession)
        : this.queue.take(this.subqueue);
      if (!message) break;
      if (first) {
        first = false;
        try {
          this.scope.env.faults.checkBusy('receive', this.entityPath);
        } catch (error) {
          this.queue.makeAvailable(message);
          this.detach((error as EmulatorError).toAmqpError());
          return;
        }
      }
      if (this.mode === 'peekLock') {
        const lock = this.queue.lock(message, this);
        const delivery = this.sender.send(
          encodeStoredMessage(message, lock.lockedUntilMs),
          lock.token.tag,
          0,
        );
        this.locks.set(delivery, lock);
      } else {
        this.sender.send(encodeStoredMessage(message), newLockToken().tag, 0);
        this.queue.deleteOnReceive(message);
      }
      this.sent++;
      room--;
    }
    flushDrain(this.sender);
  }

  private settle(outcome: Outcome, delivery: Delivery): void {
    const lock = this.locks.get(delivery);
    this.locks.delete(delivery);
    const state = (delivery.remote_state ?? {}) as RemoteOutcome;
    let reply: unknown;
    try {
      // A delivery with no lock here was never ours to settle (or was sent settled).
      if (!lock) throw errors.messageLockLost(this.entityPath);
      if (this.sessionLostError) throw this.sessionLostError;
      reply = this.apply(outcome, lock, state);
    } catch (error) {
      const failure = isEmulatorError(error)
        ? error
        : new EmulatorError('amqp:internal-error', 'The settlement failed.');
      if (!isEmulatorError(error)) this.scope.env.onInternalError(error);
      reply = rejectedState(failure.toAmqpError());
    }
    if (delivery.remote_settled) return;
    // Answered while the AMQP session lasts, even after this link was
    // detached: the client is waiting for the settled state.
    const answer = (): void => {
      if (this.sender.session.is_open()) settleAndForget(delivery, reply);
    };
    this.scope.env.journal.barrier().then(
      () => {
        const delay = this.scope.env.faults.settlementDelayMs(this.entityPath);
        if (delay > 0) setTimeout(answer, delay).unref();
        else answer();
      },
      (error: unknown) => {
        this.scope.env.onInternalError(error);
        reply = rejectedState({
          condition: 'amqp:internal-error',
          description: 'The emulator could not store the settlement.',
        });
        answer();
      },
    );
  }

  private apply(outcome: Outcome, lock: MessageLock, state: RemoteOutcome): unknown {
    switch (outcome) {
      case 'accepted':
        this.queue.complete(lock);
        return acceptedState();
      case 'released':
        this.queue.abandon(lock, undefined);
        return modifiedState(false);
      case 'modified': {
        const properties = propertiesOf(state.message_annotations);
        if (state.undeliverable_here) this.queue.defer(lock, properties);
        else this.queue.abandon(lock, properties);
        return modifiedState(Boolean(state.undeliverable_here));
      }
      case 'rejected': {
        // The SDK's dead-letter: condition com.microsoft:dead-letter, info
        // { DeadLetterReason, DeadLetterErrorDescription, ...propertiesToModify }.
        const info = state.error?.info;
        const reason =
          typeof info?.['DeadLetterReason'] === 'string' ? info['DeadLetterReason'] : undefined;
        const description =
          typeof info?.['DeadLetterErrorDescription'] === 'string'
            ? info['DeadLetterErrorDescription']
            : undefined;
        this.queue.deadLetterLocked(
          lock,
          reason,
          description,
          propertiesOf(info, ['DeadLetterReason', 'DeadLetterErrorDescription']),
        );
        return rejectedState();
      }
    }
  }
}
