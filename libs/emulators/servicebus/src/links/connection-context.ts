import type { Socket } from 'node:net';
import type { Connection, Sender, Session } from '../amqp/rhea.ts';
import { remoteAttach } from '../amqp/rhea.ts';
import { normalizeAudience } from '../auth/sas-token.ts';

/** A client link the emulator serves (for faults, clean-up and `associated-link-name`). */
export interface ClientLink {
  /** The link's name (the client chose it). */
  readonly name: string;
  /** The entity the link is attached to (`queue`, `queue/$DeadLetterQueue`, …). */
  readonly entityPath: string;
  /** The AMQP session the link lives on. */
  readonly session: Session;
  /** Detaches the link from our side with `error`. */
  detach(error: { condition: string; description: string }): void;
  /**
   * The link is gone: detached, its session ended or its connection closed
   * (release what it holds), or its connection dropped without a close
   * (`abrupt`: a session lock then stays until it expires, as the service
   * keeps it for a client that could not close).
   */
  gone(abrupt?: boolean): void;
}

/** The path part of an audience URI (`sb://host:port/queue` → `queue`). */
function audiencePath(uri: string): string {
  const normalized = normalizeAudience(uri);
  const slash = normalized.indexOf('/');
  return slash < 0 ? '' : normalized.slice(slash + 1);
}

/**
 * One client connection: the claims it put on `$cbs`, its links, and the
 * links it receives `$cbs` / `$management` answers on.
 */
export class ConnectionContext {
  readonly id: string;
  readonly connection: Connection;
  readonly socket: Socket;
  readonly links = new Set<ClientLink>();
  private readonly byName = new Map<string, ClientLink>();
  private claims: Array<{ path: string; expiresAtMs: number }> = [];

  constructor(id: string, connection: Connection, socket: Socket) {
    this.id = id;
    this.connection = connection;
    this.socket = socket;
  }

  /** Records a `put-token` grant for `audience` until `expiresAtMs`. */
  grant(audience: string, expiresAtMs: number): void {
    const path = audiencePath(audience);
    this.claims = this.claims.filter((c) => c.path !== path);
    this.claims.push({ path, expiresAtMs });
  }

  /** True when a live claim covers `entityPath` (the claim's path is the entity or a prefix of it). */
  isAuthorized(entityPath: string, nowMs = Date.now()): boolean {
    const path = entityPath.toLowerCase();
    return this.claims.some(
      (c) =>
        c.expiresAtMs > nowMs &&
        (c.path === '' || path === c.path || path.startsWith(`${c.path}/`)),
    );
  }

  add(link: ClientLink): void {
    this.links.add(link);
    this.byName.set(link.name, link);
  }

  remove(link: ClientLink): void {
    this.links.delete(link);
    if (this.byName.get(link.name) === link) this.byName.delete(link.name);
  }

  /** The served link called `name` on this connection. */
  linkNamed(name: string | undefined): ClientLink | undefined {
    return name === undefined ? undefined : this.byName.get(name);
  }

  /**
   * The link a request's answer goes to: the client's receiving link whose
   * name or target address is the request's `reply-to`.
   */
  replyLink(replyTo: string): Sender | undefined {
    return this.connection.find_sender((sender: Sender) => {
      if (!sender.is_open()) return false;
      if (sender.name === replyTo) return true;
      const target = remoteAttach(sender)['target'] as { address?: string } | null | undefined;
      return target?.address === replyTo;
    });
  }

  /** Every link on `session` (the client ended it). */
  linksOf(session: Session): ClientLink[] {
    return [...this.links].filter((l) => l.session === session);
  }
}
