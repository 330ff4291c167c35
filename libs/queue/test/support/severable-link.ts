import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';

/**
 * A loopback TCP relay to a broker that a test can cut at once: every open
 * connection is destroyed and new ones are refused, as when the process on
 * the other side dies — nothing is released, nothing renewed.
 */
export class SeverableLink {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Relays a loopback port to `target` (`host:port`). */
  static async open(target: { host: string; port: number }): Promise<SeverableLink> {
    const server = createServer();
    const link = new SeverableLink(server);
    server.on('connection', (client) => {
      const upstream = connect(target.port, target.host);
      for (const socket of [client, upstream]) {
        link.#sockets.add(socket);
        socket.on('close', () => link.#sockets.delete(socket));
        // A reset on one side only has to end the other; the relay has nothing to report.
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return link;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Cuts every connection and refuses new ones. Idempotent. */
  async sever(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    if (this.#server.listening) await new Promise((resolve) => this.#server.close(resolve));
  }
}
