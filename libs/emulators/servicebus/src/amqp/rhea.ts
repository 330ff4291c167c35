/**
 * The one place the emulator reaches into `rhea` (3.x) beyond its typed API.
 * rhea is written for clients and simple brokers; a broker that answers like
 * Service Bus needs four things rhea has no public hook for, each kept here
 * with the reason:
 *
 * 1. **Holding an attach.** rhea answers a peer's attach automatically in
 *    the same tick. "Accept the next available session" must answer only when
 *    a session is free or its timeout passes ({@link holdAttach}).
 * 2. **Answering a drain with no credit left.** rhea's sender only writes
 *    `drain=true` while it still has credit; when the messages sent already
 *    used it all, the receiver would wait for ever. {@link answerDrains}
 *    always echoes the drain, as AMQP 1.0 part 2 §2.6.7 requires.
 * 3. **The bytes of a transfer.** rhea decodes a format-0 message before
 *    handing it over; the broker keeps the sender's exact bytes, so it reads
 *    them from the frames ({@link captureTransfers}).
 * 3b. **Undecodable messages.** rhea decodes a format-0 message inside its
 *    frame handling and, when that throws, drops the connection; the service
 *    instead rejects that one delivery. The wrapper catches the decode error
 *    after rhea has registered the delivery and hands the delivery over.
 * 3c. **Forgetting settled deliveries.** With `rcv-settle-mode` second the
 *    receiver settles after us and tells nobody (AMQP 1.0 part 2 §2.7.6
 *    lets the sender forget a delivery it has settled); rhea would keep
 *    each one in its 2048-slot session buffer for ever and stop sending.
 *    {@link settleAndForget} settles and lets rhea drop the delivery.
 * 3d. **One socket write per turn.** rhea writes each frame to the socket
 *    as soon as it is encoded (and re-arms its heartbeat timer each time);
 *    {@link batchWrites} makes one pass of rhea's output loop one corked
 *    write, which at thousands of frames a second is a large share of the
 *    emulator's CPU.
 * 4. **Session-level flow.** A peer that reopens its incoming window sends a
 *    flow without a link handle; rhea tells no link, so the broker would not
 *    resume sending ({@link captureTransfers}'s `onSessionFlow`).
 *
 * Because these reach rhea's internals, the package pins rhea to the exact
 * version they were written and tested against (`package.json`, and the
 * container image installs that); a new rhea is taken on purpose, with the
 * test suite, never by a floating range.
 */
import type { Socket } from 'node:net';
import rhea, {
  type Connection,
  type Container,
  type Delivery,
  type Receiver,
  type Sender,
  type Session,
  type Typed,
} from 'rhea';

interface Writer {
  write(value: Typed): void;
  toBuffer(): Buffer;
}

export type { Connection, Container, Delivery, Receiver, Sender, Session, Typed };

/** rhea's type helpers (`wrap_*`, …). */
export const types = rhea.types;

interface Outcome {
  described(): unknown;
}

/** Delivery outcomes (AMQP 1.0 part 3 §3.4), as rhea builds them (untyped in its typings). */
export const outcomes = rhea.message as unknown as {
  accepted(): Outcome;
  rejected(fields?: { error?: { condition: string; description: string } }): Outcome;
  modified(fields: { delivery_failed?: boolean; undeliverable_here?: boolean }): Outcome;
  released(): Outcome;
};

/** A fresh rhea container (one per emulator, so several can run in one process). */
export function createContainer(id: string): Container {
  return rhea.create_container({ id });
}

/** Encodes typed AMQP values with rhea's writer. */
export function encodeTyped(value: Typed): Buffer {
  const WriterClass = (rhea.types as unknown as { Writer: new () => Writer }).Writer;
  const writer = new WriterClass();
  writer.write(value);
  return writer.toBuffer();
}

/** Hands an accepted socket to rhea as a server-side AMQP connection. */
export function acceptSocket(
  container: Container,
  socket: Socket,
  settings: Record<string, unknown>,
): Connection {
  const options = { transport: 'tcp', ...settings } as unknown as Parameters<
    Container['create_connection']
  >[0];
  const connection = container.create_connection(options) as Connection & {
    accept(socket: Socket): Connection;
  };
  return connection.accept(socket);
}

interface EndpointState {
  local_open: boolean;
  open_requests: number;
}

interface LinkInternals {
  state: EndpointState;
  local: { attach: Record<string, unknown> };
  remote: { attach?: Record<string, unknown> };
  credit: number;
  delivery_count: number;
  _draining: boolean;
  issue_flow: boolean;
  _get_drain: () => boolean;
  connection: { _register(): void };
}

function internals(link: Sender | Receiver): LinkInternals {
  return link as unknown as LinkInternals;
}

interface ConnectionInternals {
  _process(): void;
  output(): void;
}

/**
 * Coalesces rhea's writes on `connection`: while rhea runs one pass of its
 * output loop, frames are only queued, then written together (socket corked)
 * at the end of the pass.
 */
export function batchWrites(connection: Connection, socket: Socket): void {
  const inner = connection as unknown as ConnectionInternals;
  const process = inner._process.bind(connection);
  const output = inner.output.bind(connection);
  let batching = false;
  let wanted = false;
  inner.output = (): void => {
    if (batching) wanted = true;
    else output();
  };
  inner._process = (): void => {
    batching = true;
    socket.cork();
    try {
      process();
    } finally {
      batching = false;
      if (wanted) {
        wanted = false;
        output();
      }
      socket.uncork();
    }
  };
}

/** The peer's attach performative (source, target, properties, settle modes, …). */
export function remoteAttach(link: Sender | Receiver): Record<string, unknown> {
  return internals(link).remote.attach ?? {};
}

/** Our attach performative, to fill in before it is written. */
export function localAttach(link: Sender | Receiver): Record<string, unknown> {
  return internals(link).local.attach;
}

/**
 * Keeps rhea from answering the peer's attach now. Call it inside the
 * `sender_open` / `receiver_open` handler; {@link releaseAttach} (or
 * `link.open()`) sends the answer later.
 */
export function holdAttach(link: Sender | Receiver): void {
  const state = internals(link).state;
  if (state.local_open) {
    state.local_open = false;
    state.open_requests = Math.max(0, state.open_requests - 1);
    held.add(link);
  }
}

/** Links whose attach answer {@link holdAttach} is holding. */
const held = new WeakSet<Sender | Receiver>();

/** Sends the attach held by {@link holdAttach} (with whatever `localAttach` now holds). */
export function releaseAttach(link: Sender | Receiver): void {
  if (!held.delete(link)) return;
  link.open();
}

/** True while our answer to the peer's attach is held (not merely: the link is closed). */
export function isAttachHeld(link: Sender | Receiver): boolean {
  return held.has(link);
}

/**
 * Makes `sender` answer every drain request: when the peer asks to drain,
 * the flow written after the messages in hand consumes whatever credit is
 * left and says `drain=true`, even when that is none.
 */
export function answerDrains(sender: Sender, onConsumed: (credit: number) => void): void {
  const link = internals(sender);
  link._get_drain = function getDrain(this: LinkInternals): boolean {
    if (!this._draining) return false;
    onConsumed(this.credit);
    this.delivery_count += this.credit;
    this.credit = 0;
    this._draining = false;
    return true;
  };
}

/** Asks rhea to write `sender`'s flow (with the drain answer) at the next turn. */
export function flushDrain(sender: Sender): void {
  const link = internals(sender);
  if (!link._draining) return;
  link.issue_flow = true;
  link.connection._register();
}

/**
 * Settles an outgoing delivery with `state` and lets rhea forget it once
 * the disposition is written (see 3c above).
 */
export function settleAndForget(delivery: Delivery, state: unknown): void {
  delivery.update(true, state);
  (delivery as unknown as { remote_settled: boolean }).remote_settled = true;
}

/** The link credit the peer has granted and rhea has not used yet. */
export function linkCredit(sender: Sender): number {
  return internals(sender).credit;
}

/** Transfers rhea has written on `sender` so far (its delivery-count). */
export function transferredCount(sender: Sender): number {
  return internals(sender).delivery_count;
}

interface SessionInternals {
  on_transfer(frame: TransferFrame): void;
  on_flow(frame: unknown): void;
  remote: { handles: Record<number, Sender | Receiver> };
  outgoing: {
    available(): number;
    transfer_window(): number;
    next_delivery_id: number;
    next_pending_delivery: number;
  };
  incoming: { deliveries: { get_tail(): Delivery | undefined } };
}

interface TransferFrame {
  performative: { handle: number; more?: boolean };
  payload?: Buffer;
}

/** An error rhea's input handling treats as the peer's protocol violation (it ends the connection). */
class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/**
 * True when `connection`'s peer has announced a frame larger than
 * `maxFrameBytes` (rhea itself would buffer whatever size a frame claims).
 */
export function frameTooLarge(connection: Connection, maxFrameBytes: number): boolean {
  const pending = (connection as unknown as { frame_size?: number }).frame_size;
  return pending !== undefined && pending > maxFrameBytes;
}

/**
 * Room in a session for more outgoing deliveries: rhea's delivery buffer,
 * and the peer's incoming window less the deliveries queued but not yet
 * written.
 */
export function outgoingRoom(session: Session): number {
  const outgoing = (session as unknown as SessionInternals).outgoing;
  const queued = outgoing.next_delivery_id - outgoing.next_pending_delivery;
  return Math.min(outgoing.available(), outgoing.transfer_window() - queued);
}

/**
 * Wraps a session's frame handling so that `onPayload` sees the complete
 * bytes of every transfer on a link, just before rhea dispatches the
 * `message` event for it (same tick), and `onSessionFlow` runs after every
 * flow frame.
 */
export function captureTransfers(
  session: Session,
  onPayload: (link: Receiver, payload: Buffer) => void,
  onSessionFlow: () => void,
  onUndecodable: (link: Receiver, delivery: Delivery, error: unknown) => void,
  maxDeliveryBytes: number,
): void {
  const inner = session as unknown as SessionInternals;
  const partial = new Map<number, Buffer[]>();
  const partialBytes = new Map<number, number>();
  const handleTransfer = inner.on_transfer.bind(session);
  inner.on_transfer = (frame: TransferFrame): void => {
    const handle = frame.performative.handle;
    const link = inner.remote.handles[handle];
    let complete = false;
    if (link && frame.payload) {
      const parts = partial.get(handle);
      const bytes = (partialBytes.get(handle) ?? 0) + frame.payload.length;
      // A delivery that never ends would grow without bound: end the connection (rhea answers a ProtocolError so).
      if (bytes > maxDeliveryBytes)
        throw new ProtocolError(`a delivery exceeds ${maxDeliveryBytes} bytes`);
      if (frame.performative.more) {
        partialBytes.set(handle, bytes);
        if (parts) parts.push(frame.payload);
        else partial.set(handle, [frame.payload]);
      } else {
        partial.delete(handle);
        partialBytes.delete(handle);
        complete = true;
        onPayload(
          link as Receiver,
          parts ? Buffer.concat([...parts, frame.payload]) : frame.payload,
        );
      }
    }
    try {
      handleTransfer(frame);
    } catch (error) {
      // rhea registered the delivery (and used the credit) before its decode
      // threw: the delivery is the newest one of the session.
      const delivery = complete ? inner.incoming.deliveries.get_tail() : undefined;
      if (!link || !delivery || delivery.link !== link) throw error;
      onUndecodable(link as Receiver, delivery, error);
    }
  };
  const handleFlow = inner.on_flow.bind(session);
  inner.on_flow = (frame: unknown): void => {
    handleFlow(frame);
    onSessionFlow();
  };
}
