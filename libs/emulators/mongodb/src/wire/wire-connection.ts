import type { Socket } from 'node:net';
import { Long, type Document } from 'bson';
import { HELLO_COMMAND_NAMES } from '../commands/handshake-commands.ts';
import { CommandError, isCommandError } from '../errors/command-error.ts';
import { isPlainObject } from '../storage/bson-values.ts';
import type { ConnectionInfo } from '../server/command-context.ts';
import { dispatch } from '../server/dispatcher.ts';
import type { ClientConnection, ReplicaNode } from '../server/replica-node.ts';
import {
  decodeMessage,
  encodeOpMsg,
  encodeOpReply,
  FLAG_EXHAUST_ALLOWED,
  FLAG_MORE_TO_COME,
  MAX_MESSAGE_BYTES,
  OP_MSG,
  OP_QUERY,
  type OutgoingMessage,
  type WireRequest,
} from './messages.ts';
import { replyChunks } from './chunk-pool.ts';

/** Whether a request asks for a streamed reply: an awaitable hello sent with exhaustAllowed. */
function isStreamingHello(request: WireRequest): boolean {
  const { command } = request;
  return (
    (request.flags & FLAG_EXHAUST_ALLOWED) !== 0 &&
    HELLO_COMMAND_NAMES.has(Object.keys(command)[0] ?? '') &&
    isPlainObject(command.topologyVersion) &&
    typeof command.maxAwaitTimeMS === 'number'
  );
}

/** `topologyVersion.counter` as a number (a Long in replies, a promoted number in requests). */
function counterOf(topologyVersion: Document): number {
  const counter = topologyVersion.counter as unknown;
  return Long.isLong(counter) ? counter.toNumber() : Number(counter);
}

let nextConnectionId = 1;

/**
 * One client socket: frames messages, runs them one at a time (as mongod
 * does per connection), writes replies, and streams exhaust hellos. Closing
 * it aborts the command in flight, which frees an awaiting getMore's cursor.
 */
export class WireConnection implements ClientConnection {
  readonly id = nextConnectionId++;
  readonly info: ConnectionInfo;
  readonly #socket: Socket;
  readonly #node: ReplicaNode;
  #buffered: Buffer[] = [];
  #bufferedBytes = 0;
  #queue: Buffer[] = [];
  #running = false;
  #closed = false;
  #inFlight: AbortController | undefined;
  /** Aborted when the socket closes: ends waits that belong to no command (the hello stream's). */
  readonly #closing = new AbortController();

  constructor(socket: Socket, node: ReplicaNode) {
    this.#socket = socket;
    this.#node = node;
    this.info = {
      id: this.id,
      appName: undefined,
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
    };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('close', () => this.#onClose());
    // A reset from the client is an ordinary disconnect; 'close' follows and cleans up.
    socket.on('error', () => this.#onClose());
    node.connections.add(this);
  }

  #onData(chunk: Buffer): void {
    this.#buffered.push(chunk);
    this.#bufferedBytes += chunk.length;
    while (this.#bufferedBytes >= 4) {
      if ((this.#buffered[0] as Buffer).length < 4)
        this.#buffered = [Buffer.concat(this.#buffered)];
      const length = (this.#buffered[0] as Buffer).readInt32LE(0);
      if (length < 16 || length > MAX_MESSAGE_BYTES) {
        // The server cannot find the next message boundary either; it drops the connection.
        this.destroy();
        return;
      }
      // Join chunks only once the whole message is here: large batches arrive in many chunks.
      if (this.#bufferedBytes < length) return;
      const head =
        this.#buffered.length === 1 ? (this.#buffered[0] as Buffer) : Buffer.concat(this.#buffered);
      this.#queue.push(head.subarray(0, length));
      const rest = head.subarray(length);
      this.#buffered = rest.length > 0 ? [rest] : [];
      this.#bufferedBytes = rest.length;
    }
    void this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const message = this.#queue.shift() as Buffer;
        try {
          await this.#handle(message);
        } catch (error) {
          // Command failures are already replies; reaching here is an emulator bug. The
          // exchange is in an unknown state, so drop this connection, never the process.
          console.error('[emulator-mongodb] connection failed:', error);
          this.destroy();
        }
      }
    } finally {
      this.#running = false;
    }
  }

  async #handle(message: Buffer): Promise<void> {
    let request: WireRequest;
    const requestId = message.readInt32LE(4);
    const opCode = message.readInt32LE(12);
    try {
      request = decodeMessage(message);
    } catch (error) {
      if (opCode !== OP_MSG && opCode !== OP_QUERY) {
        this.destroy();
        return;
      }
      const failure =
        error instanceof CommandError ? error : new CommandError('InvalidBSON', String(error));
      this.#send(requestId, failure.toReply(), { legacy: opCode === OP_QUERY });
      return;
    }
    if (request.opCode === OP_QUERY) {
      await this.#handleOpQuery(request);
      return;
    }
    const reply = await this.#run(request.command);
    if (reply === undefined) return;
    if (request.flags & FLAG_MORE_TO_COME) return; // unacknowledged write: no reply expected
    if (isStreamingHello(request) && reply.ok === 1) await this.#streamHello(request, reply);
    else this.#send(request.requestId, reply);
  }

  /**
   * Streaming hello (the server monitoring spec's streaming protocol): every
   * reply goes out with moreToCome, and the same request is answered again
   * after the next topology change or maxAwaitTimeMS, until the socket
   * closes. The wait is here, between two replies, so the loop can never
   * spin; an error reply ends the stream, as the server never sets
   * moreToCome on one.
   */
  async #streamHello(request: WireRequest, first: Document): Promise<void> {
    const { maxAwaitTimeMS, ...rest } = request.command;
    let reply = first;
    while (this.#send(request.requestId, reply, { moreToCome: true })) {
      const topologyVersion = reply.topologyVersion as Document;
      await this.#node.awaitTopologyChange(
        counterOf(topologyVersion),
        maxAwaitTimeMS as number,
        this.#closing.signal,
      );
      if (this.#closed) return;
      // Without maxAwaitTimeMS the hello answers at once: the waiting was done above.
      const next = await this.#run({ ...rest, topologyVersion });
      if (next === undefined) return;
      if (next.ok !== 1) {
        this.#send(request.requestId, next);
        return;
      }
      reply = next;
    }
  }

  async #handleOpQuery(request: WireRequest): Promise<void> {
    const name = Object.keys(request.command)[0] ?? '';
    const db = request.fullCollectionName?.split('.')[0] ?? 'admin';
    if (!request.fullCollectionName?.endsWith('.$cmd') || !HELLO_COMMAND_NAMES.has(name)) {
      const failure = new CommandError(
        'UnsupportedOpQueryCommand',
        `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal`,
      );
      this.#send(request.requestId, failure.toReply(), { legacy: true });
      return;
    }
    const reply = await this.#run({ ...request.command }, db);
    if (reply !== undefined) this.#send(request.requestId, reply, { legacy: true });
  }

  /** Runs a command; undefined means "no reply" (the connection is closing). */
  async #run(command: Document, legacyDb?: string): Promise<Document | undefined> {
    const controller = new AbortController();
    this.#inFlight = controller;
    try {
      const result = await dispatch(this.#node, {
        command,
        ...(legacyDb ? { legacyDb } : {}),
        connection: this.info,
        signal: controller.signal,
      });
      if (result.closeConnection) {
        this.destroy();
        return undefined;
      }
      // Durability before acknowledgement: a reply goes out only once every
      // change it may report (or show) is journalled. Writes of the same
      // moment share one sync (group commit).
      const durable = this.#node.whenDurable();
      if (durable) await durable;
      return this.#closed ? undefined : result.reply;
    } finally {
      this.#inFlight = undefined;
    }
  }

  /**
   * Encodes and writes a reply. A reply that cannot be encoded (beyond the
   * message limit, or holding a value BSON cannot express) is answered with
   * that error instead, which ends a stream; returns whether the reply itself
   * went out.
   */
  #send(
    requestId: number,
    reply: Document,
    options: { moreToCome?: boolean; legacy?: boolean } = {},
  ): boolean {
    const encode = (doc: Document, moreToCome: boolean) =>
      options.legacy ? encodeOpReply(requestId, doc) : encodeOpMsg(requestId, doc, moreToCome);
    let message: OutgoingMessage;
    try {
      message = encode(reply, options.moreToCome ?? false);
    } catch (error) {
      const failure = isCommandError(error)
        ? error
        : new CommandError(
            'InternalError',
            `the reply could not be encoded: ${error instanceof Error ? error.message : String(error)}`,
          );
      // A small error document always encodes; were it to fail, #drain drops the connection.
      this.#write(encode(failure.toReply(), false));
      return false;
    }
    this.#write(message);
    return true;
  }

  #write({ parts, pooled }: OutgoingMessage): void {
    if (this.#closed) return;
    // Pooled chunks go back once the last part is written (or failed): never while still queued.
    const release = pooled.length > 0 ? () => replyChunks.release(pooled) : undefined;
    this.#socket.cork();
    for (let i = 0; i < parts.length; i++)
      this.#socket.write(parts[i] as Buffer, i === parts.length - 1 ? release : undefined);
    this.#socket.uncork();
  }

  abortInFlight(reason: Error): void {
    this.#inFlight?.abort(reason);
  }

  destroy(): void {
    this.#socket.destroy();
    this.#onClose();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#closing.abort();
    this.#inFlight?.abort(
      new CommandError('InterruptedDueToReplStateChange', 'client disconnected'),
    );
    this.#node.connections.delete(this);
  }
}
