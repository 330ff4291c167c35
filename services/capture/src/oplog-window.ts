import { type OplogBounds, readOplogBounds } from '@tributary/checkpoint';
import type { Logger } from '@tributary/core';
import type { MongoClient } from 'mongodb';

/** How often the oplog's bounds are read while that works. */
const READ_INTERVAL_MS = 30_000;
/** How long to wait before trying again after a refusal (no rights on `local`, a sharded cluster). */
const RETRY_AFTER_REFUSAL_MS = 10 * 60_000;

/**
 * Reads the oplog's bounds (`readOplogBounds`) every 30 s in the
 * background, for the resume point's headroom metric. Capture never waits
 * for it. Where the source does not allow it — the user lacks `read`
 * on the `local` database, or a mongos answers — the metric is not
 * reported, and one log line says why and what to grant.
 *
 * @see https://www.mongodb.com/docs/manual/reference/method/rs.printReplicationInfo/
 */
export class OplogWindow {
  readonly #client: MongoClient;
  readonly #logger: Logger;
  #bounds: OplogBounds | undefined;
  #nextAt = 0;
  #reading = false;
  #refusalLogged = false;

  constructor(client: MongoClient, logger: Logger) {
    this.#client = client;
    this.#logger = logger;
  }

  /** The bounds last read, or undefined when they could not be read. */
  get bounds(): OplogBounds | undefined {
    return this.#bounds;
  }

  /** Starts a read in the background when one is due. */
  poll(now: number): void {
    if (this.#reading || now < this.#nextAt) return;
    this.#reading = true;
    void this.#read(now).finally(() => (this.#reading = false));
  }

  async #read(now: number): Promise<void> {
    try {
      this.#bounds = await readOplogBounds(this.#client);
      this.#nextAt = now + READ_INTERVAL_MS;
    } catch (error) {
      this.#bounds = undefined;
      this.#nextAt = now + RETRY_AFTER_REFUSAL_MS;
      if (this.#refusalLogged) return;
      this.#refusalLogged = true;
      this.#logger.info(
        { reason: error instanceof Error ? error.message : String(error) },
        'the oplog’s bounds cannot be read, so the resume point’s headroom is not reported; grant the capture user read on the local database (a replica set, not mongos) to report it',
      );
    }
  }
}
