import type { MongoServerError } from 'mongodb';

/** The error an operation that must fail was rejected with (the test fails if it succeeded). */
export async function failure(promise: Promise<unknown>): Promise<MongoServerError> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!outcome) throw new Error('expected the operation to fail');
  return outcome as MongoServerError;
}
