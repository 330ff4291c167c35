import { createServer } from 'node:net';

/** Ports handed out below Linux's ephemeral range (32768–60999), 1,000 per Vitest worker. */
const FIRST_PORT = 20_000;
const BLOCK = 1_000;
const BLOCKS = 12;

let handedOut = Math.floor(Math.random() * BLOCK);

/**
 * A port for a server a test is about to start (a service's health
 * endpoint, a private Redis). Never one from the kernel's ephemeral range:
 * a port found free with `listen(0)` and released can be taken by any
 * outbound connection's local end before the server binds it — seen as a
 * capture whose health endpoint never came up while end-to-end files ran
 * two at a time. Each Vitest worker (`VITEST_POOL_ID`) takes from its own
 * block, so files running side by side never pick the same port; a port
 * something listens on already is skipped.
 */
export async function freePort(): Promise<number> {
  const worker = Number(process.env.VITEST_POOL_ID ?? 0) % BLOCKS;
  for (let tries = 0; tries < BLOCK; tries += 1) {
    const port = FIRST_PORT + worker * BLOCK + (handedOut++ % BLOCK);
    if (await canListen(port)) return port;
  }
  throw new Error(
    `no free port in ${FIRST_PORT + worker * BLOCK}–${FIRST_PORT + (worker + 1) * BLOCK - 1}`,
  );
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
