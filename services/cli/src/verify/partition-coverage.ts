import type { CaptureOrigin, PartitionCheckpoint } from '@tributary/checkpoint';
import { parseOrderingKey } from '@tributary/core';
import {
  type ClusterInstant,
  compareInstants,
  instantOfTimestamp,
  instantOfToken,
} from './cluster-instant.ts';

/** How far one partition's checkpoint vouches for the lake. */
interface Coverage {
  /** The last key written: every event of the partition up to it is in the lake. */
  readonly key?: { readonly at: ClusterInstant; readonly n: number };
  /**
   * Where the checkpoint's resume token stands: a heartbeat moves it past
   * the last key while the partition is quiet, so the partition had nothing
   * else before it.
   */
  readonly token?: ClusterInstant;
}

/**
 * What the partition checkpoints say is in the lake. A writer stores a
 * checkpoint only after the lines it covers are flushed, and the
 * checkpoints are read before the lake, so every event a checkpoint covers
 * must be among the lines read: one that is not is lost. An event a
 * checkpoint does not cover yet may still be on its way (in the queue, in
 * a writer's hands): it is in flight.
 */
export class PartitionCoverage {
  readonly #coverage = new Map<number, Coverage>();
  readonly #openFiles = new Set<string>();
  readonly #origin: ClusterInstant | undefined;

  constructor(
    checkpoints: ReadonlyMap<number, PartitionCheckpoint>,
    origin: CaptureOrigin | undefined,
  ) {
    this.#origin = origin && instantOfTimestamp(origin.startAtOperationTime);
    for (const [partition, checkpoint] of checkpoints) {
      for (const file of checkpoint.openFiles) if (!file.closed) this.#openFiles.add(file.path);
      const position = checkpoint.position;
      if (!position) continue;
      const parts = parseOrderingKey(position.key);
      const token = instantOfToken(position.token);
      this.#coverage.set(partition, {
        ...(parts ? { key: { at: { t: parts.t, i: parts.i }, n: parts.n } } : {}),
        ...(token ? { token } : {}),
      });
    }
  }

  /** Where capture first started (its stored origin), when known. */
  get origin(): ClusterInstant | undefined {
    return this.#origin;
  }

  /** Files a writer may still be appending to. */
  get openFiles(): ReadonlySet<string> {
    return this.#openFiles;
  }

  /**
   * True when partition `partition`'s checkpoint covers an event at `at`,
   * the `n`th of its clusterTime (`undefined` when its position there is not
   * known). Events sharing the checkpoint's own clusterTime (a transaction)
   * are covered up to the key's position; without a position they are
   * taken as not covered, so doubt never turns into an alarm.
   */
  covers(partition: number, at: ClusterInstant, n: number | undefined): boolean {
    const coverage = this.#coverage.get(partition);
    if (!coverage) return false;
    if (coverage.token && compareInstants(at, coverage.token) < 0) return true;
    if (!coverage.key) return false;
    const order = compareInstants(at, coverage.key.at);
    return order < 0 || (order === 0 && n !== undefined && n <= coverage.key.n);
  }

  /**
   * The earliest clusterTime whose events the partition's checkpoint may not
   * cover; for a partition without one, capture's origin (`undefined` when
   * that is not known either).
   */
  uncoveredFrom(partition: number): ClusterInstant | undefined {
    const coverage = this.#coverage.get(partition);
    if (!coverage) return this.#origin;
    const { key, token } = coverage;
    if (key && token) return compareInstants(key.at, token) >= 0 ? key.at : token;
    return key?.at ?? token ?? this.#origin;
  }
}
