import { connect, type Socket } from 'node:net';
import { deserialize, serialize, type Document } from 'bson';
import { crc32c } from '../../src/wire/crc32c.ts';

/** Host and port of a mongodb:// URI (first host). */
function hostPort(uri: string): { host: string; port: number } {
  const match = /^mongodb:\/\/([^/:,?]+):(\d+)/.exec(uri);
  if (!match) throw new Error(`cannot parse ${uri}`);
  return { host: match[1] as string, port: Number(match[2]) };
}

/** Sends raw bytes and collects one reply (or notices the server closed the socket). */
export function sendRaw(
  uri: string,
  bytes: Buffer,
  timeoutMs = 2000,
): Promise<{ reply?: Buffer; closed: boolean }> {
  const { host, port } = hostPort(uri);
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false });
    }, timeoutMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      if (all.length >= 4 && all.length >= all.readInt32LE(0)) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ reply: all, closed: false });
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true });
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') resolve({ closed: true });
      else reject(error);
    });
  });
}

interface RawOptions {
  checksum?: boolean;
  corruptChecksum?: boolean;
  corruptBody?: boolean;
  sequence?: { name: string; docs: Document[] };
}

/** Builds an OP_MSG by hand (optionally with a document sequence and checksum), returns the reply body. */
export async function rawCommand(
  uri: string,
  command: Document,
  options: RawOptions = {},
): Promise<Document | undefined> {
  const body = Buffer.from(serialize(command));
  if (options.corruptBody) body[4] = 0x77; // an element type that does not exist
  const parts: Buffer[] = [Buffer.from([0]), body];
  if (options.sequence) {
    const name = Buffer.from(`${options.sequence.name}\0`, 'utf8');
    const docs = options.sequence.docs.map((doc) => Buffer.from(serialize(doc)));
    const size = 4 + name.length + docs.reduce((sum, doc) => sum + doc.length, 0);
    const sizeBuffer = Buffer.alloc(4);
    sizeBuffer.writeInt32LE(size, 0);
    parts.push(Buffer.from([1]), sizeBuffer, name, ...docs);
  }
  const sections = Buffer.concat(parts);
  const header = Buffer.alloc(20);
  const length = 20 + sections.length + (options.checksum ? 4 : 0);
  header.writeInt32LE(length, 0);
  header.writeInt32LE(7, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(2013, 12);
  header.writeUInt32LE(options.checksum ? 1 : 0, 16);
  let message = Buffer.concat([header, sections]);
  if (options.checksum) {
    const crc = Buffer.alloc(4);
    crc.writeUInt32LE((crc32c(message) ^ (options.corruptChecksum ? 1 : 0)) >>> 0, 0);
    message = Buffer.concat([message, crc]);
  }
  const { reply } = await sendRaw(uri, message);
  if (!reply) return undefined;
  return deserialize(reply.subarray(21, reply.readInt32LE(0)));
}

/** Sends the legacy OP_QUERY `isMaster` handshake and decodes the OP_REPLY. */
export async function rawLegacyHello(uri: string): Promise<Document> {
  const query = Buffer.from(serialize({ isMaster: 1 }));
  const name = Buffer.from('admin.$cmd\0', 'utf8');
  const header = Buffer.alloc(20);
  const tail = Buffer.alloc(8);
  tail.writeInt32LE(0, 0);
  tail.writeInt32LE(-1, 4);
  const length = 20 + name.length + 8 + query.length;
  header.writeInt32LE(length, 0);
  header.writeInt32LE(9, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(2004, 12);
  header.writeInt32LE(0, 16);
  const { reply } = await sendRaw(uri, Buffer.concat([header, name, tail, query]));
  if (!reply) throw new Error('no reply to OP_QUERY');
  if (reply.readInt32LE(12) !== 1)
    throw new Error(`expected OP_REPLY, got opCode ${reply.readInt32LE(12)}`);
  return deserialize(reply.subarray(36));
}

/** One decoded OP_MSG reply. */
export interface RawReply {
  responseTo: number;
  flags: number;
  body: Document;
}

/** OP_MSG flag bits (wire protocol specification). */
export const MORE_TO_COME = 2;
export const EXHAUST_ALLOWED = 1 << 16;

/**
 * A raw client socket that sends OP_MSG commands with chosen flags and
 * collects every reply, for what the driver cannot be made to send (an
 * exhaust flag on any command) or to see (moreToCome on each reply).
 */
export class RawConnection {
  readonly #socket: Socket;
  readonly #replies: RawReply[] = [];
  #pending: Buffer = Buffer.alloc(0);
  #waiter: (() => void) | undefined;
  #nextId = 100;
  /** Resolves when the server closes the socket (or it fails). */
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#pending = Buffer.concat([this.#pending, chunk]);
      while (this.#pending.length >= 4 && this.#pending.length >= this.#pending.readInt32LE(0)) {
        const length = this.#pending.readInt32LE(0);
        const message = this.#pending.subarray(0, length);
        this.#pending = this.#pending.subarray(length);
        this.#replies.push({
          responseTo: message.readInt32LE(8),
          flags: message.readUInt32LE(16),
          body: deserialize(message.subarray(21)),
        });
      }
      this.#waiter?.();
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', () => resolve());
      // A reset is a close too; 'close' follows it.
      socket.on('error', () => undefined);
    });
  }

  /** Opens a connection to the first host of `uri`. */
  static open(uri: string): Promise<RawConnection> {
    const { host, port } = hostPort(uri);
    return new Promise((resolve, reject) => {
      const socket = connect(port, host);
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a command with the given OP_MSG flags; returns its requestId. */
  send(command: Document, flags = 0): number {
    const body = Buffer.from(serialize(command));
    const header = Buffer.alloc(21);
    const requestId = this.#nextId++;
    header.writeInt32LE(21 + body.length, 0);
    header.writeInt32LE(requestId, 4);
    header.writeInt32LE(2013, 12);
    header.writeUInt32LE(flags, 16);
    this.#socket.write(Buffer.concat([header, body]));
    return requestId;
  }

  /** The next reply, or undefined if none arrives within `timeoutMs`. */
  async next(timeoutMs: number): Promise<RawReply | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.#replies.length === 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
    return this.#replies.shift();
  }

  /** Every reply that arrives within `ms`. */
  async collect(ms: number): Promise<RawReply[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.#replies.splice(0);
  }

  close(): void {
    this.#socket.destroy();
  }
}
