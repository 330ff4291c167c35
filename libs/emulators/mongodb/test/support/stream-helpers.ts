import type { ChangeStream, ChangeStreamDocument, Document } from 'mongodb';

/** Reads `count` events from a stream, failing after `timeoutMs` instead of hanging. */
export async function readEvents<T extends Document = Document>(
  stream: ChangeStream<T>,
  count: number,
  timeoutMs = 5000,
): Promise<ChangeStreamDocument<T>[]> {
  const events: ChangeStreamDocument<T>[] = [];
  const deadline = Date.now() + timeoutMs;
  while (events.length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} events, got ${events.length}`);
    const next = await stream.tryNext();
    if (next) events.push(next);
  }
  return events;
}

/** Opens the stream on the server now (so later writes are after its start point). */
export async function started<T extends Document>(
  stream: ChangeStream<T>,
): Promise<ChangeStream<T>> {
  await stream.tryNext();
  return stream;
}
