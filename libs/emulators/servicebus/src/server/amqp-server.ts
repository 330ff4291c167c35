import type { Socket } from 'node:net';
import {
  acceptSocket,
  batchWrites,
  captureTransfers,
  createContainer,
  frameTooLarge,
  remoteAttach,
  type Connection,
  type Container,
  type Delivery,
  type Receiver,
  type Sender,
  type Session,
} from '../amqp/rhea.ts';
import { EmulatorError, errors, isEmulatorError } from '../emulator-error.ts';
import { ConnectionContext, type ClientLink } from '../links/connection-context.ts';
import {
  refuseAttach,
  rejectedState,
  type LinkEnvironment,
  type LinkScope,
} from '../links/link-support.ts';
import { MessageDelivery } from '../links/message-delivery.ts';
import { MessageIntake } from '../links/message-intake.ts';
import { CbsNode, ManagementNode, ReplyLink } from '../links/request-nodes.ts';

interface LinkEvent {
  connection: Connection;
  session: Session;
  sender?: Sender;
  receiver?: Receiver;
}

function address(terminus: unknown): string | undefined {
  const value = (terminus as { address?: unknown } | null | undefined)?.address;
  return typeof value === 'string' ? value : undefined;
}

/**
 * The AMQP side of the emulator: one rhea container, the connections it
 * serves, and the routing of each attach to the node it names (`$cbs`, an
 * entity, or an entity's `$management`). Nothing a client sends may throw out
 * of here: every handler answers errors on the wire.
 */
export class AmqpServer {
  private readonly container: Container;
  private readonly env: LinkEnvironment;
  private readonly credentials: { keyName: string; key: string } | undefined;
  private readonly contexts = new Map<Connection, ConnectionContext>();
  private readonly payloads = new WeakMap<Receiver, Buffer>();
  private readonly intakes = new WeakMap<Receiver, MessageIntake>();
  private connectionCounter = 0;

  /** Largest frame we accept (and announce in our open): 1 MiB; bigger messages come in several frames. */
  static readonly MAX_FRAME_BYTES = 1024 * 1024;
  /** Largest delivery we read: the largest message a queue can allow, plus the batch envelope. */
  static readonly MAX_DELIVERY_BYTES = 100 * 1024 * 1024 + 64 * 1024;

  constructor(env: LinkEnvironment, credentials: { keyName: string; key: string } | undefined) {
    this.env = env;
    this.credentials = credentials;
    this.container = createContainer(`servicebus-emulator-${process.pid}`);
    const c = this.container;
    c.on('session_open', (event: LinkEvent) =>
      this.guard(() => this.sessionOpened(event.connection, event.session)),
    );
    c.on('receiver_open', (event: LinkEvent) =>
      this.guardLink(event.receiver!, () => this.clientSenderAttached(event)),
    );
    c.on('sender_open', (event: LinkEvent) =>
      this.guardLink(event.sender!, () => this.clientReceiverAttached(event)),
    );
    c.on('session_close', (event: LinkEvent) => this.guard(() => this.sessionClosed(event)));
    c.on('connection_close', (event: LinkEvent) =>
      this.guard(() => this.connectionGone(event.connection, false)),
    );
    // Disconnected without a close first: the client crashed or the network failed.
    c.on('disconnected', (event: LinkEvent) =>
      this.guard(() => this.connectionGone(event.connection, true)),
    );
    // Errors a client causes (bad frames, closing with an error) end at most
    // its connection; rhea has already answered or dropped it.
    for (const name of [
      'protocol_error',
      'connection_error',
      'session_error',
      'sender_error',
      'receiver_error',
    ])
      c.on(name, () => undefined);
    c.on('error', (error: unknown) => this.clientError(error));
  }

  /** Serves an accepted TCP socket whose first bytes are the AMQP header. */
  accept(socket: Socket): void {
    const id = `connection-${++this.connectionCounter}`;
    const connection = acceptSocket(this.container, socket, {
      id,
      max_frame_size: AmqpServer.MAX_FRAME_BYTES,
      // A client's sender link: settle explicitly once journaled.
      receiver_options: { autoaccept: false, credit_window: 1000 },
      // A client's receiver link: report modified as modified (abandon vs defer).
      sender_options: { treat_modified_as_released: false },
    });
    batchWrites(connection, socket);
    this.contexts.set(connection, new ConnectionContext(id, connection, socket));
    socket.on('data', () => {
      if (frameTooLarge(connection, AmqpServer.MAX_FRAME_BYTES + 1024)) socket.destroy();
    });
  }

  /** Every connection served now. */
  connections(): ConnectionContext[] {
    return [...this.contexts.values()];
  }

  /** Every link served now. */
  links(): ClientLink[] {
    return this.connections().flatMap((c) => [...c.links]);
  }

  /** Closes every connection (the emulator is stopping). */
  close(): void {
    for (const context of this.contexts.values()) {
      for (const link of [...context.links]) link.gone();
      context.socket.destroy();
    }
    this.contexts.clear();
  }

  private scope(connection: Connection): LinkScope | undefined {
    const context = this.contexts.get(connection);
    if (!context) return undefined;
    return { env: this.env, context, takePayload: (link) => this.takePayload(link) };
  }

  private takePayload(link: Receiver): Buffer | undefined {
    const payload = this.payloads.get(link);
    this.payloads.delete(link);
    return payload;
  }

  private sessionOpened(connection: Connection, session: Session): void {
    captureTransfers(
      session,
      (link, payload) => {
        if (this.intakes.has(link)) this.payloads.set(link, payload);
      },
      () => {
        for (const link of this.contexts.get(connection)?.linksOf(session) ?? [])
          if (link instanceof MessageDelivery) link.notify();
      },
      (link, delivery) => this.undecodable(link, delivery),
      AmqpServer.MAX_DELIVERY_BYTES,
    );
  }

  private undecodable(link: Receiver, delivery: Delivery): void {
    const intake = this.intakes.get(link);
    if (intake) return intake.undecodable(delivery);
    delivery.update(
      true,
      rejectedState(errors.decode(link.name, 'The request could not be decoded.').toAmqpError()),
    );
  }

  /**
   * Refuses a link to `entityPath` unless a live `$cbs` claim covers it. A
   * management link is checked as `<entity>/$management`, the audience the
   * SDK asks its token for (`@azure/service-bus` `ManagementClient`:
   * `${endpoint}${entityPath}/$management`); a claim for the entity itself
   * (or the namespace) covers that path too, as a SAS token covers every path
   * under its resource URI
   * (https://learn.microsoft.com/azure/service-bus-messaging/service-bus-sas).
   */
  private authorize(scope: LinkScope, entityPath: string, claim: string): void {
    if (!this.env.requireClaims || scope.context.isAuthorized(entityPath)) return;
    throw errors.unauthorized(
      `Unauthorized access. '${claim}' claim(s) are required to perform this operation. Resource: '${this.env.namespaceUri}/${entityPath}'.`,
    );
  }

  /** A client opened a sending link: messages to an entity, or requests to `$cbs` / `$management`. */
  private clientSenderAttached(event: LinkEvent): void {
    const receiver = event.receiver!;
    const scope = this.scope(event.connection);
    if (!scope) return;
    const target = this.env.namespace.resolve(address(remoteAttach(receiver)['target']));
    switch (target.kind) {
      case 'cbs':
        new CbsNode(scope, receiver, this.credentials);
        return;
      case 'unknown':
        return refuseAttach(
          receiver,
          errors.entityNotFound(`${this.env.namespaceUri}/${target.entityPath}`),
        );
      case 'management':
        this.authorize(scope, `${target.entityPath}/$management`, 'Manage,Listen');
        new ManagementNode(scope, receiver, target.queue, target.subqueue);
        return;
      case 'entity': {
        if (target.subqueue.kind !== 'main')
          throw errors.sendToSubqueueNotAllowed(target.entityPath);
        this.authorize(scope, target.entityPath, 'Send');
        this.env.faults.checkBusy('attach', target.entityPath);
        const intake = new MessageIntake(scope, receiver, target.queue);
        this.intakes.set(receiver, intake);
        return;
      }
    }
  }

  /** A client opened a receiving link: messages from an entity, or answers from `$cbs` / `$management`. */
  private clientReceiverAttached(event: LinkEvent): void {
    const sender = event.sender!;
    const scope = this.scope(event.connection);
    if (!scope) return;
    const source = this.env.namespace.resolve(address(remoteAttach(sender)['source']));
    switch (source.kind) {
      case 'cbs':
        new ReplyLink(scope, sender, '$cbs');
        return;
      case 'unknown':
        return refuseAttach(
          sender,
          errors.entityNotFound(`${this.env.namespaceUri}/${source.entityPath}`),
        );
      case 'management':
        this.authorize(scope, `${source.entityPath}/$management`, 'Manage,Listen');
        new ReplyLink(scope, sender, `${source.entityPath}/$management`);
        return;
      case 'entity':
        this.authorize(scope, source.entityPath, 'Listen');
        this.env.faults.checkBusy('attach', source.entityPath);
        MessageDelivery.open(scope, sender, source.queue, source.subqueue);
        return;
    }
  }

  private sessionClosed(event: LinkEvent): void {
    for (const link of this.contexts.get(event.connection)?.linksOf(event.session) ?? [])
      link.gone();
  }

  private connectionGone(connection: Connection, abrupt: boolean): void {
    const context = this.contexts.get(connection);
    if (!context) return;
    this.contexts.delete(connection);
    for (const link of [...context.links]) link.gone(abrupt);
  }

  /** Runs a link handler; whatever it throws becomes the link's refusal, never a crash. */
  private guardLink(link: Sender | Receiver, handler: () => void): void {
    try {
      handler();
    } catch (error) {
      if (!isEmulatorError(error)) this.env.onInternalError(error);
      refuseAttach(
        link,
        isEmulatorError(error)
          ? error
          : new EmulatorError('amqp:internal-error', 'The emulator failed to attach the link.'),
      );
    }
  }

  private guard(handler: () => void): void {
    try {
      handler();
    } catch (error) {
      this.env.onInternalError(error);
    }
  }

  private clientError(_error: unknown): void {
    // What reaches here is rhea's own complaint about a peer (an undecodable
    // frame, an unknown handle, a link error no handler claimed): rhea has
    // already ended that connection. The emulator's own handlers are wrapped
    // in guard()/guardLink(), which report their errors themselves, so
    // nothing here is the emulator's fault and nothing is logged.
  }
}
