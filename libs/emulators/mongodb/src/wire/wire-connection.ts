import type { Socket } from 'node:net';
import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
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
  type WireRequest,
} from './messages.ts';

/** Commands the server still accepts over legacy OP_QUERY (the handshake). */
const OP_QUERY_COMMANDS = new Set(['hello', 'isMaster', 'ismaster']);

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
        await this.#handle(this.#queue.shift() as Buffer);
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
      this.#write(
        opCode === OP_QUERY
          ? encodeOpReply(requestId, failure.toReply())
          : encodeOpMsg(requestId, failure.toReply()),
      );
      return;
    }
    if (request.opCode === OP_QUERY) {
      await this.#handleOpQuery(request);
      return;
    }
    const exhaust =
      (request.flags & FLAG_EXHAUST_ALLOWED) !== 0 && request.command.maxAwaitTimeMS !== undefined;
    let reply = await this.#run(request.command);
    if (reply === undefined) return;
    if (request.flags & FLAG_MORE_TO_COME) return; // unacknowledged write: no reply expected
    if (!exhaust) {
      this.#write(encodeOpMsg(request.requestId, reply));
      return;
    }
    // Streaming hello: keep answering on the same request until the socket closes.
    let command = request.command;
    while (!this.#closed) {
      this.#write(encodeOpMsg(request.requestId, reply, true));
      command = { ...command, topologyVersion: reply.topologyVersion };
      const next = await this.#run(command);
      if (next === undefined) return;
      reply = next;
    }
  }

  async #handleOpQuery(request: WireRequest): Promise<void> {
    const name = Object.keys(request.command)[0] ?? '';
    const db = request.fullCollectionName?.split('.')[0] ?? 'admin';
    if (!request.fullCollectionName?.endsWith('.$cmd') || !OP_QUERY_COMMANDS.has(name)) {
      const failure = new CommandError(
        'UnsupportedOpQueryCommand',
        `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal`,
      );
      this.#write(encodeOpReply(request.requestId, failure.toReply()));
      return;
    }
    const reply = await this.#run({ ...request.command }, db);
    if (reply !== undefined) this.#write(encodeOpReply(request.requestId, reply));
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
      return this.#closed ? undefined : result.reply;
    } finally {
      this.#inFlight = undefined;
    }
  }

  #write(parts: Buffer[]): void {
    if (this.#closed) return;
    this.#socket.cork();
    for (const part of parts) this.#socket.write(part);
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
    this.#inFlight?.abort(
      new CommandError('InterruptedDueToReplStateChange', 'client disconnected'),
    );
    this.#node.connections.delete(this);
  }
}
