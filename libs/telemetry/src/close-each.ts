import type { Logger } from '@tributary/core';

/** Something that can be closed. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * Closes resources in order, each in its own try/catch: one that fails to
 * close is logged and the rest are still closed, so a shutdown never leaves
 * connections open behind a single error.
 */
export async function closeEach(
  resources: ReadonlyArray<readonly [name: string, resource: Closable | undefined]>,
  logger: Logger,
): Promise<void> {
  for (const [name, resource] of resources) {
    if (!resource) continue;
    try {
      await resource.close();
    } catch (error) {
      logger.warn({ err: error, resource: name }, 'failed to close cleanly; continuing shutdown');
    }
  }
}
