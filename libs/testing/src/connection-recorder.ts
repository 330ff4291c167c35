import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';

/**
 * A loopback TCP listener that only counts who connects — the independent
 * witness for "nothing was contacted".
 */
export class ConnectionRecorder implements AsyncDisposable {
  #connections = 0;
  readonly #sockets = new Set<Socket>();
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
    server.on('connection', (socket) => {
      this.#connections += 1;
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  /** Listens on an ephemeral loopback port. */
  static async listen(): Promise<ConnectionRecorder> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new ConnectionRecorder(server);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** How many connections were accepted so far. */
  get connections(): number {
    return this.#connections;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    if (this.#server.listening) await new Promise((resolve) => this.#server.close(resolve));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
