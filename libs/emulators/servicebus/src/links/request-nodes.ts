import { types, type Delivery, type Receiver, type Sender, type Session } from '../amqp/rhea.ts';
import { checkSasToken } from '../auth/sas-token.ts';
import type { QueueEntity } from '../broker/queue-entity.ts';
import type { Subqueue } from '../broker/subqueue.ts';
import { EmulatorError, isEmulatorError } from '../emulator-error.ts';
import type { ClientLink } from './connection-context.ts';
import { asString, mirrorTermini, type LinkScope } from './link-support.ts';
import { runOperation, type OperationAnswer } from './management-operations.ts';

/** A request as rhea decoded it (format 0). */
interface RequestMessage {
  message_id?: unknown;
  reply_to?: string;
  application_properties?: Record<string, unknown>;
  body?: unknown;
}

/** What every served link does when it goes away. */
abstract class ServedLink implements ClientLink {
  readonly name: string;
  readonly entityPath: string;
  readonly session: Session;
  protected readonly scope: LinkScope;
  protected readonly link: Sender | Receiver;
  protected closed = false;

  constructor(scope: LinkScope, link: Sender | Receiver, entityPath: string) {
    this.scope = scope;
    this.link = link;
    this.name = link.name;
    this.entityPath = entityPath;
    this.session = link.session;
    mirrorTermini(link);
    link.on(link.is_receiver() ? 'receiver_close' : 'sender_close', () => this.gone());
    scope.context.add(this);
  }

  detach(error: { condition: string; description: string }): void {
    if (this.closed) return;
    this.link.close(error);
    this.gone();
  }

  gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.scope.context.remove(this);
  }
}

/**
 * A client's receiving link for `$cbs` or `$management` answers: answered
 * at attach with the terminus it asked for; answers are sent on it by the
 * request nodes (matched by the request's `reply-to`).
 */
export class ReplyLink extends ServedLink {
  constructor(scope: LinkScope, sender: Sender, entityPath: string) {
    super(scope, sender, entityPath);
  }
}

/** Sends `answer` to the request's reply-to link, correlated by its message id. */
function reply(
  scope: LinkScope,
  request: RequestMessage,
  applicationProperties: Record<string, unknown>,
  body?: unknown,
): void {
  if (request.reply_to === undefined) return;
  const link = scope.context.replyLink(request.reply_to);
  if (!link) return;
  link.send({
    correlation_id: request.message_id as string | undefined,
    application_properties: applicationProperties,
    body: body ?? null,
  });
}

/**
 * The `$cbs` node: `put-token` requests (claims-based security,
 * https://learn.microsoft.com/azure/service-bus-messaging/service-bus-amqp-protocol-guide#claims-based-authorization).
 * A valid token grants the connection its audience until the token expires;
 * answers use `status-code` / `status-description` (what `@azure/core-amqp`'s
 * `CbsClient` reads). Tokens never reach a log or an answer.
 */
export class CbsNode extends ServedLink {
  private readonly credentials: { keyName: string; key: string } | undefined;

  constructor(
    scope: LinkScope,
    receiver: Receiver,
    credentials: { keyName: string; key: string } | undefined,
  ) {
    super(scope, receiver, '$cbs');
    this.credentials = credentials;
    receiver.on('message', (context: { message: RequestMessage; delivery: Delivery }) =>
      this.request(context.message, context.delivery),
    );
  }

  private request(request: RequestMessage, delivery: Delivery): void {
    delivery.accept();
    const props = request.application_properties ?? {};
    const answer = (status: number, description: string, condition?: string): void =>
      reply(this.scope, request, {
        'status-code': types.wrap_int(status),
        'status-description': description,
        ...(condition ? { 'error-condition': condition } : {}),
      });
    if (props['operation'] !== 'put-token')
      return answer(
        400,
        `Unsupported $cbs operation '${String(props['operation'])}'.`,
        'amqp:not-implemented',
      );
    const audience = asString(props['name']);
    const type = asString(props['type']);
    const token = asString(request.body);
    if (!audience || !token)
      return answer(
        400,
        "A put-token request needs 'name' and a token body.",
        'com.microsoft:argument-error',
      );
    if (type === 'jwt') {
      if (this.credentials)
        return answer(
          401,
          'Unauthorized: Microsoft Entra (jwt) tokens cannot be verified by the emulator; use a SAS token.',
          'amqp:unauthorized-access',
        );
      this.scope.context.grant(audience, Date.now() + 3_600_000);
      return answer(202, 'Accepted');
    }
    if (type !== 'servicebus.windows.net:sastoken')
      return answer(
        400,
        `Unsupported token type '${String(type)}'.`,
        'com.microsoft:argument-error',
      );
    const check = checkSasToken(token, audience, Date.now(), this.credentials);
    if (!check.ok) return answer(401, `Unauthorized: ${check.reason}`, 'amqp:unauthorized-access');
    this.scope.context.grant(audience, check.expiresAtMs);
    return answer(202, 'Accepted');
  }
}

/**
 * The `<entity>/$management` node of a queue or its dead-letter subqueue.
 * Answers carry the service's camelCase `statusCode` / `statusDescription`
 * (and `errorCondition` on failures), after the journal holds the change.
 */
export class ManagementNode extends ServedLink {
  private readonly queue: QueueEntity;
  private readonly subqueue: Subqueue;

  constructor(scope: LinkScope, receiver: Receiver, queue: QueueEntity, subqueue: Subqueue) {
    super(scope, receiver, `${subqueue.entityPath}/$management`);
    this.queue = queue;
    this.subqueue = subqueue;
    receiver.on('message', (context: { message: RequestMessage; delivery: Delivery }) =>
      this.request(context.message, context.delivery),
    );
  }

  private request(request: RequestMessage, delivery: Delivery): void {
    delivery.accept();
    const props = request.application_properties ?? {};
    const operation = asString(props['operation']);
    let answer: OperationAnswer;
    try {
      this.scope.env.faults.checkBusy('management', this.subqueue.entityPath);
      answer = runOperation(
        {
          queue: this.queue,
          subqueue: this.subqueue,
          entityPath: this.subqueue.entityPath,
          sessionHolder: (id, linkName) => this.holderOf(id, linkName),
        },
        operation,
        request.body,
        asString(props['associated-link-name']),
      );
    } catch (error) {
      const failure = isEmulatorError(error) ? error : this.internal(error);
      return this.send(request, failure.status, failure.message, undefined, failure.condition);
    }
    const settlement = operation === 'com.microsoft:update-disposition';
    this.scope.env.journal.barrier().then(
      () => {
        answer.afterDurable?.();
        const delay = settlement
          ? this.scope.env.faults.settlementDelayMs(this.subqueue.entityPath)
          : 0;
        const send = (): void => this.send(request, answer.status, answer.description, answer.body);
        if (delay > 0) setTimeout(send, delay).unref();
        else send();
      },
      (error: unknown) => {
        const failure = this.internal(error);
        this.send(request, failure.status, failure.message, undefined, failure.condition);
      },
    );
  }

  private send(
    request: RequestMessage,
    status: number,
    description: string,
    body?: unknown,
    condition?: string,
  ): void {
    if (this.closed) return;
    reply(
      this.scope,
      request,
      {
        statusCode: types.wrap_int(status),
        statusDescription: description,
        ...(condition ? { errorCondition: types.wrap_symbol(condition) } : {}),
      },
      body,
    );
  }

  private holderOf(sessionId: string, linkName: string | undefined): object {
    const named = this.scope.context.linkNamed(linkName);
    if (named) return named;
    const holder = this.queue.sessions?.registry.find(sessionId)?.lock?.holder;
    if (holder && this.scope.context.links.has(holder as ClientLink)) return holder;
    return NOBODY;
  }

  private internal(error: unknown): EmulatorError {
    this.scope.env.onInternalError(error);
    return new EmulatorError(
      'amqp:internal-error',
      'The emulator failed to perform the operation.',
    );
  }
}

/** A holder no session lock ever has. */
const NOBODY = Object.freeze({});
