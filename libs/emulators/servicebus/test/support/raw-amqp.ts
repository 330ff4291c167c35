import net from 'node:net';
import rhea, {
  type Connection,
  type Delivery,
  type EventContext,
  type Receiver,
  type Sender,
} from 'rhea';

/**
 * A plain rhea client, for what the official SDK will not send: undecodable
 * messages, requests without put-token, malformed management bodies.
 */
export interface RawClient {
  connection: Connection;
  /** A sending link to `address`, once attached (or rejects with the detach error). */
  sender(address: string): Promise<Sender>;
  /** Sends `payload` as raw bytes with `format`; resolves with the remote outcome. */
  sendRaw(
    sender: Sender,
    payload: Buffer,
    format?: number,
  ): Promise<{ outcome: string; condition?: string }>;
  /** A `$management` request/response pair on `entity`. */
  management(
    entity: string,
  ): Promise<(request: Record<string, unknown>) => Promise<Record<string, unknown>>>;
  close(): Promise<void>;
}

function once<T>(
  emitter: { once(event: string, listener: (value: T) => void): unknown },
  event: string,
): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

/** Connects a rhea client to the emulator on `port` (SASL ANONYMOUS). */
export async function rawClient(port: number): Promise<RawClient> {
  const container = rhea.create_container({ id: `raw-${process.pid}-${Date.now()}` });
  // A client's own link errors are the test's business; keep rhea from throwing them.
  container.on('error', () => undefined);
  const connection = container.connect({
    host: '127.0.0.1',
    port,
    reconnect: false,
    username: 'anon',
  } as never);
  await once(connection, 'connection_open');
  const attached = <L extends Sender | Receiver>(
    link: L,
    openEvent: string,
    closeEvent: string,
  ): Promise<L> =>
    new Promise((resolve, reject) => {
      link.once(openEvent, () =>
        setImmediate(() => (link.is_open() ? resolve(link) : reject(link.error))),
      );
      link.once(closeEvent, () => reject(link.error));
    });
  let counter = 0;
  return {
    connection,
    sender: (address) =>
      attached(
        connection.open_sender({ target: { address }, autosettle: false }),
        'sender_open',
        'sender_close',
      ),
    sendRaw: (sender, payload, format = 0) =>
      new Promise((resolve) => {
        const delivery: Delivery = sender.send(payload, undefined, format);
        const done = (outcome: string) => (context: EventContext) => {
          if (context.delivery !== delivery) return;
          const state = context.delivery.remote_state as
            { error?: { condition?: string } } | undefined;
          resolve({
            outcome,
            ...(state?.error?.condition ? { condition: state.error.condition } : {}),
          });
        };
        sender.on('accepted', done('accepted'));
        sender.on('rejected', done('rejected'));
        sender.on('released', done('released'));
      }),
    async management(entity) {
      const replyTo = `reply-${++counter}`;
      const receiver = await attached(
        connection.open_receiver({
          source: { address: `${entity}/$management` },
          target: { address: replyTo },
        }),
        'receiver_open',
        'receiver_close',
      );
      const sender = await attached(
        connection.open_sender({ target: { address: `${entity}/$management` } }),
        'sender_open',
        'sender_close',
      );
      const waiting = new Map<string, (m: Record<string, unknown>) => void>();
      receiver.on('message', (context: EventContext) => {
        const message = context.message as unknown as Record<string, unknown>;
        waiting.get(String(message['correlation_id']))?.(message);
      });
      return (request) =>
        new Promise((resolve) => {
          const id = `request-${++counter}`;
          waiting.set(id, resolve);
          sender.send({ message_id: id, reply_to: replyTo, ...request } as never);
        });
    },
    close: () =>
      new Promise((resolve) => {
        connection.once('connection_close', () => resolve());
        connection.once('disconnected', () => resolve());
        connection.close();
      }),
  };
}

/** Opens a TCP socket, writes `bytes`, and resolves with what came back once the server closed it (or after `waitMs`). */
export function rawExchange(
  port: number,
  bytes: Buffer,
  waitMs = 3000,
): Promise<{ data: Buffer; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closedByServer: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), closedByServer });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => socket.write(bytes));
  });
}
