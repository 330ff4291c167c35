import { CommandError } from '../errors/command-error.ts';
import type { CommandContext } from '../server/command-context.ts';
import { isBlockedByTransaction } from '../transactions/document-locks.ts';
import { optionalCount } from './command-args.ts';

/**
 * Runs one write (a statement, or one document of `$merge`); while it meets
 * a document an open transaction holds, waits for that transaction to end
 * and runs it again (the write changed nothing before it was blocked), as
 * the server's write-conflict retry loop does. The command's `maxTimeMS`
 * bounds the wait: MaxTimeMSExpired (50).
 */
export async function untilUnblocked<T>(context: CommandContext, run: () => T): Promise<T> {
  const maxTimeMS = optionalCount(context.command, context.name, 'maxTimeMS') ?? 0;
  const deadline = maxTimeMS > 0 ? Date.now() + maxTimeMS : Infinity;
  for (;;) {
    try {
      return run();
    } catch (error) {
      if (!isBlockedByTransaction(error)) throw error;
      await waitUntil(error.ended, deadline, context.signal);
      if (context.signal.aborted) throw context.signal.reason;
      if (Date.now() >= deadline)
        throw new CommandError('MaxTimeMSExpired', 'operation exceeded time limit');
    }
  }
}

/** Resolves when `ended` does, at `deadline`, or when `signal` aborts. */
function waitUntil(ended: Promise<void>, deadline: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer =
      deadline === Infinity ? undefined : setTimeout(done, Math.max(0, deadline - Date.now()));
    signal.addEventListener('abort', done, { once: true });
    void ended.then(done);
  });
}
