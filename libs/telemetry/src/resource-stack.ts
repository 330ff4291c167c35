import type { Logger } from '@tributary/core';
import { type Closable, closeEach } from './close-each.ts';

/**
 * What a process opened so far, closed in reverse order of opening. Start-up
 * adds each resource as soon as it exists, so a signal that arrives halfway
 * through start-up still closes exactly what was opened.
 */
export class ResourceStack {
  readonly #resources: Array<readonly [string, Closable]> = [];

  /** Adds a resource and returns it. */
  add<T extends Closable>(name: string, resource: T): T {
    this.#resources.push([name, resource]);
    return resource;
  }

  /** Closes everything, newest first, each in its own try/catch. */
  async closeAll(logger: Logger): Promise<void> {
    const resources = this.#resources.splice(0).reverse();
    await closeEach(resources, logger);
  }
}
