export { freePort } from '@tributary/testing';

/** What GET `path` answered, or `undefined` while nothing listens. */
export async function probe(
  port: number,
  path: string,
): Promise<{ status: number; body: string } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: response.status, body: await response.text() };
  } catch {
    // Not listening (yet): the caller polls.
    return undefined;
  }
}

/** Polls GET `path` until `accept` holds for its answer; throws after `timeoutMs`. */
export async function untilAnswer(
  port: number,
  path: string,
  accept: (answer: { status: number; body: string }) => boolean,
  timeoutMs = 30_000,
): Promise<{ status: number; body: string }> {
  const started = Date.now();
  let last: { status: number; body: string } | undefined;
  for (;;) {
    last = await probe(port, path);
    if (last && accept(last)) return last;
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `${path} on ${port} did not answer as expected; last: ${JSON.stringify(last)}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}
