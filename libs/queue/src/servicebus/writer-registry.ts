import type { ServiceBusClient, ServiceBusSessionReceiver } from '@azure/service-bus';
import { sleep } from '@tributary/core';
import { QueueError, isQueueError } from '../queue-error.ts';
import type { PartitionHolder } from '../transport.ts';
import { diagnoseSessionQueue } from './queue-diagnosis.ts';
import { REGISTRY_SESSION } from './session-names.ts';
import { bestEffort, isSessionHeldElsewhere, translated } from './translate-error.ts';

/** What one writer says of itself in the registry. */
export interface RegistryEntry {
  /** Changes at every update: how others tell a live writer from a dead one without comparing clocks. */
  readonly beat: number;
  /** Partitions it owns now. */
  readonly owned: readonly number[];
  /** It owns fewer than its fair share and wants more. */
  readonly hungry: boolean;
  /**
   * When the others will take the writer for dead unless it updates its
   * entry again (ms since the epoch, by the writer's own clock). Writers go
   * by `beat` and their own clocks; this is for operators, who read the
   * registry once ({@link readRegistry}). Absent in entries of older writers.
   */
  readonly until?: number;
}

/** The registry as stored in the session state. */
interface RegistryDocument {
  readonly writers: Record<string, RegistryEntry>;
}

/** What a writer learns from an update. */
export interface RegistryView {
  /** Live writers, this one included. */
  readonly live: number;
  /** Other live writers that want more partitions. */
  readonly othersHungry: number;
  /**
   * Partitions other writers say they own, leaving out those of writers
   * whose entry has not changed for a while: not worth trying to accept.
   */
  readonly ownedByOthers: ReadonlySet<number>;
}

/** How a registry update is done. */
export interface RegistryOptions {
  readonly client: ServiceBusClient;
  readonly queueName: string;
  readonly writerId: string;
  /** An entry unchanged for this long (by this writer's clock) belongs to a dead writer. */
  readonly presenceTtlMs: number;
  /**
   * An entry unchanged for this long may belong to a dead writer: its
   * partitions are worth trying (accepting a session still locked only
   * fails), though it still counts as live until `presenceTtlMs`.
   */
  readonly suspectAfterMs: number;
  /** How long an update may wait for the registry's session lock. */
  readonly operationTimeoutMs: number;
  readonly onBackgroundError: (error: QueueError) => void;
}

/**
 * The live writers of a queue, kept in the session state of the session
 * {@link REGISTRY_SESSION} — a session that never carries a message. An
 * update is a read-modify-write under that session's lock (accept the
 * session, read the state, write it, close), so writers never overwrite
 * each other's entries, and it needs only the `Listen` right writers have
 * anyway. A writer that died leaves its entry behind; others remove it once
 * it has not changed for `presenceTtlMs`, measured by their own clocks.
 *
 * The registry only spreads partitions; exclusive ownership is the
 * partition session's own lock.
 */
export class WriterRegistry {
  readonly #o: RegistryOptions;
  /** Others' beats as last seen, and since when (this writer's clock). */
  readonly #seen = new Map<string, { beat: number; sinceMs: number }>();
  #beat = 0;

  constructor(options: RegistryOptions) {
    this.#o = options;
  }

  /**
   * Records this writer's entry (or, with `undefined`, removes it) and
   * drops the entries of dead writers.
   *
   * @throws QueueError `UNAVAILABLE` when the registry cannot be updated in time.
   */
  async update(self: Pick<RegistryEntry, 'owned' | 'hungry'> | undefined): Promise<RegistryView> {
    const deadline = Date.now() + this.#o.operationTimeoutMs;
    for (;;) {
      try {
        return await this.#readModifyWrite(self);
      } catch (error) {
        // The registry's session lock ran out in the middle (a slow service,
        // a pause of this process): nothing was written, so the update is
        // simply made again. The registry is not a partition: losing its
        // lock costs this writer nothing it owns.
        const lockLost = isQueueError(error) && error.code === 'OWNERSHIP_LOST';
        if (!lockLost) throw error;
        if (Date.now() >= deadline) {
          throw new QueueError(
            'UNAVAILABLE',
            `the writers registry of ${this.#o.queueName} could not be updated within ${this.#o.operationTimeoutMs} ms: its session lock kept running out (${error.message})`,
            { cause: error },
          );
        }
      }
    }
  }

  async #readModifyWrite(
    self: Pick<RegistryEntry, 'owned' | 'hungry'> | undefined,
  ): Promise<RegistryView> {
    const { queueName, writerId } = this.#o;
    const receiver = await acceptRegistry(this.#o.client, queueName, this.#o.operationTimeoutMs);
    try {
      const timeout = this.#o.operationTimeoutMs;
      const document = parseDocument(
        await translated(
          'reading the writers registry',
          (abortSignal) => receiver.getSessionState({ abortSignal }),
          timeout,
        ),
      );
      const writers = this.#withoutDead(document.writers, Date.now());
      if (self) {
        const until = Date.now() + this.#o.presenceTtlMs;
        writers[writerId] = { ...self, beat: (this.#beat += 1), until };
      } else delete writers[writerId];
      await translated(
        'updating the writers registry',
        (abortSignal) =>
          receiver.setSessionState({ writers } satisfies RegistryDocument, { abortSignal }),
        timeout,
      );
      return this.#viewOf(writers, Date.now());
    } finally {
      await bestEffort(
        `releasing the writers registry of ${queueName}`,
        () => receiver.close(),
        this.#o.onBackgroundError,
      );
    }
  }

  #viewOf(writers: Record<string, RegistryEntry>, nowMs: number): RegistryView {
    const ownedByOthers = new Set<number>();
    let othersHungry = 0;
    for (const [id, entry] of Object.entries(writers)) {
      if (id === this.#o.writerId) continue;
      if (entry.hungry) othersHungry += 1;
      const seen = this.#seen.get(id);
      const suspect = seen !== undefined && nowMs - seen.sinceMs > this.#o.suspectAfterMs;
      if (!suspect) for (const partition of entry.owned) ownedByOthers.add(partition);
    }
    return { live: Math.max(1, Object.keys(writers).length), othersHungry, ownedByOthers };
  }

  /** The entries of live writers: an entry whose beat has not moved for the presence TTL is dropped. */
  #withoutDead(
    writers: Readonly<Record<string, RegistryEntry>>,
    nowMs: number,
  ): Record<string, RegistryEntry> {
    const live: Record<string, RegistryEntry> = {};
    for (const [id, entry] of Object.entries(writers)) {
      if (id === this.#o.writerId) continue;
      const seen = this.#seen.get(id);
      if (!seen || seen.beat !== entry.beat) {
        this.#seen.set(id, { beat: entry.beat, sinceMs: nowMs });
      } else if (nowMs - seen.sinceMs > this.#o.presenceTtlMs) {
        this.#seen.delete(id);
        continue;
      }
      live[id] = entry;
    }
    for (const id of this.#seen.keys()) if (!(id in writers)) this.#seen.delete(id);
    return live;
  }
}

/**
 * Accepts the registry's session, waiting while another writer holds it
 * (an update holds it for a few round trips).
 *
 * @throws QueueError `UNAVAILABLE` when it stays locked for `operationTimeoutMs`.
 */
async function acceptRegistry(
  client: ServiceBusClient,
  queueName: string,
  operationTimeoutMs: number,
): Promise<ServiceBusSessionReceiver> {
  const deadline = Date.now() + operationTimeoutMs;
  for (;;) {
    try {
      return await translated(
        'opening the writers registry',
        (abortSignal) =>
          client.acceptSession(queueName, REGISTRY_SESSION, {
            maxAutoLockRenewalDurationInMs: 0,
            abortSignal,
          }),
        operationTimeoutMs,
      );
    } catch (error) {
      // Another writer is updating it: it holds the lock for a few round trips.
      if (!isSessionHeldElsewhere(error)) throw error;
      if (Date.now() >= deadline) {
        const problem = await diagnoseSessionQueue(client, queueName, operationTimeoutMs);
        throw new QueueError(
          'UNAVAILABLE',
          problem ??
            `the writers registry of ${queueName} stayed locked for ${operationTimeoutMs} ms (a writer may have died updating it; its lock expires with the queue's LockDuration)`,
          { cause: error },
        );
      }
      await sleep(25 + Math.random() * 100);
    }
  }
}

/** How the registry is read by someone who is not a writer. */
export interface RegistryReadOptions {
  readonly client: ServiceBusClient;
  readonly queueName: string;
  readonly operationTimeoutMs: number;
  readonly onBackgroundError: (error: QueueError) => void;
}

/**
 * The registry's entries as stored, read without changing them: the
 * session is accepted (waiting while a writer updates it), its state read,
 * and the session closed, which is all a writer's update holds it for too.
 * Needs only the `Listen` right.
 *
 * @throws QueueError `UNAVAILABLE` when the registry cannot be read in time.
 */
export async function readRegistry(
  options: RegistryReadOptions,
): Promise<Record<string, RegistryEntry>> {
  const { client, queueName, operationTimeoutMs } = options;
  const receiver = await acceptRegistry(client, queueName, operationTimeoutMs);
  try {
    const state = await translated(
      'reading the writers registry',
      (abortSignal) => receiver.getSessionState({ abortSignal }),
      operationTimeoutMs,
    );
    return parseDocument(state).writers;
  } finally {
    await bestEffort(
      `releasing the writers registry of ${queueName}`,
      () => receiver.close(),
      options.onBackgroundError,
    );
  }
}

/**
 * Who holds each partition, as the writers last said in the registry:
 * entries whose `until` has passed by `nowMs` are left out (their writer
 * stopped updating: it died, and its session locks have run out since),
 * and where two entries name one partition — one writer gave it up,
 * another took it, and the first has not updated its entry yet — the
 * entry written later (the later `until`) wins. Entries without `until`
 * (older writers) count, with no end known.
 */
export function holdersOf(
  writers: Readonly<Record<string, RegistryEntry>>,
  nowMs: number,
): Map<number, PartitionHolder> {
  const holders = new Map<number, { writerId: string; untilMs: number | undefined }>();
  for (const [writerId, entry] of Object.entries(writers)) {
    if (entry.until !== undefined && entry.until <= nowMs) continue;
    for (const partition of entry.owned) {
      const other = holders.get(partition);
      if (other && (other.untilMs ?? Infinity) >= (entry.until ?? Infinity)) continue;
      holders.set(partition, { writerId, untilMs: entry.until });
    }
  }
  return new Map(
    [...holders].map(([partition, { writerId, untilMs }]) => [
      partition,
      untilMs === undefined ? { writerId } : { writerId, until: new Date(untilMs) },
    ]),
  );
}

/**
 * The stored document, or an empty registry for a session without state.
 * A state that is not a registry (another program wrote it) is replaced:
 * entries come back with every live writer's next update.
 */
function parseDocument(state: unknown): RegistryDocument {
  const writers: Record<string, RegistryEntry> = {};
  const stored = (state as { writers?: unknown } | null | undefined)?.writers;
  if (typeof stored !== 'object' || stored === null) return { writers };
  for (const [id, value] of Object.entries(stored as Record<string, unknown>)) {
    const entry = value as Partial<RegistryEntry> | null;
    if (typeof entry?.beat !== 'number' || !Array.isArray(entry.owned)) continue;
    writers[id] = {
      beat: entry.beat,
      owned: entry.owned.filter((p): p is number => Number.isInteger(p)),
      hungry: entry.hungry === true,
      ...(typeof entry.until === 'number' ? { until: entry.until } : {}),
    };
  }
  return { writers };
}
