import { QueueError } from '../queue-error.ts';

/**
 * Rejects with `UNAVAILABLE` when `promise` has not settled within `ms`.
 * For waits no Redis command bounds (BullMQ waiting for its connection to
 * become ready): the operation may still complete later, exactly like a
 * command whose reply was lost, which is why publishing is idempotent.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, doing: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new QueueError('UNAVAILABLE', `${doing}: no answer from Redis within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
