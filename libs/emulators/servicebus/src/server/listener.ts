import net, { type Server, type Socket } from 'node:net';

/** The AMQP protocol header starts with these bytes (AMQP 1.0 part 2 §2.2). */
const AMQP_MAGIC = Buffer.from('AMQP');
/** A socket that says nothing for this long is dropped. */
const FIRST_BYTES_TIMEOUT_MS = 30_000;

/**
 * One TCP port for both protocols the emulator speaks: a connection whose
 * first bytes are the AMQP header goes to the AMQP server, anything else to
 * the admin HTTP route. Every socket is tracked so `stop()` and the
 * "drop connections" fault can end them.
 */
export class Listener {
  readonly server: Server;
  readonly sockets = new Set<Socket>();

  constructor(onAmqp: (socket: Socket) => void, onHttp: (socket: Socket) => void) {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.setNoDelay(true);
      let head: Buffer = Buffer.alloc(0);
      const timer = setTimeout(() => socket.destroy(), FIRST_BYTES_TIMEOUT_MS);
      timer.unref();
      const route = (chunk: Buffer): void => {
        head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
        if (head.length < AMQP_MAGIC.length && head.equals(AMQP_MAGIC.subarray(0, head.length)))
          return;
        socket.off('data', route);
        clearTimeout(timer);
        socket.pause();
        socket.unshift(head);
        if (head.subarray(0, AMQP_MAGIC.length).equals(AMQP_MAGIC)) onAmqp(socket);
        else onHttp(socket);
        socket.resume();
      };
      socket.on('data', route);
    });
  }

  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Stops listening and destroys every socket. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }
}
