import type { OrderingKey } from '@tributary/core';

/** The fewest checkpoint reads a stall spans (see {@link stallIntervalMs}). */
const STALL_CHECKPOINT_READS = 25;

/**
 * The longest wait between two probes of a partition whose checkpoint stays
 * put: how late, at worst, a lost probe is replaced (see {@link StallProbes}).
 */
export const MAX_REPROBE_MS = 10 * 60_000;

/**
 * How long a partition's checkpoint must stand still, with batches of it
 * waiting, before capture probes it: the longer of the heartbeat interval
 * and 25 checkpoint reads — 10 s with the default heartbeat, never under
 * 5 s at capture's 200 ms reading cadence.
 *
 * Why: a probe is meant for writers that have stopped, or for batches that
 * are gone, not for writers that are merely slower than capture. A writer
 * at work stores a checkpoint after every batch it flushes, so a checkpoint
 * that has not moved for seconds while batches wait means no writer is
 * taking them. The heartbeat interval is the pace at which capture already
 * expects every partition's checkpoint to move, and a probe is a heartbeat,
 * so probing no sooner adds no more traffic than heartbeats do; the floor
 * of 25 reads keeps a short heartbeat setting from probing on a writer's
 * ordinary pauses (a lake request retried under throttling, a large flush,
 * a hand-over), and makes sure a move between two reads is seen before a
 * stall is called. Waiting longer only delays healing, by as much.
 *
 * @param checkpointReadMs the shortest time between two reads of the checkpoints while paused.
 */
export function stallIntervalMs(heartbeatIntervalMs: number, checkpointReadMs: number): number {
  return Math.max(heartbeatIntervalMs, STALL_CHECKPOINT_READS * checkpointReadMs);
}

/** What capture knows of one partition's checkpoint. */
interface PartitionStall {
  /** The checkpoint key last read (undefined before the first read). */
  key: OrderingKey | undefined;
  /** When that key was first read: the checkpoint has not moved since at least then. */
  since: number;
  /** Probes sent since the checkpoint last moved (or the partition was rewound). */
  probes: number;
  /** When the last of them went out. */
  probedAt: number;
}

/**
 * Which partitions capture probes while it is paused at the high-water
 * mark: those whose checkpoint has not moved for the stall interval while
 * their oldest outstanding batch has waited as long (see
 * `PartitionLines.probe`).
 *
 * Why: capture learns of batches lost from the queue only from a writer
 * that receives a batch whose predecessor it never wrote. While capture is
 * paused it publishes nothing, so when the batches it paused on vanish
 * with nothing behind them — expired under the queue's time to live,
 * dead-lettered, a queue deleted and recreated, none of which a contents
 * epoch reports — no writer sees a gap, no checkpoint moves, and capture
 * would wait for good. A probe is that later batch: behind batches merely
 * waiting it is a harmless heartbeat at the key the writer will have; after
 * lost ones it makes the writer report the gap, and capture re-reads the
 * partition (see ARCHITECTURE.md, "Gaps heal; they are never dropped").
 *
 * A probe can be lost too (it expires with the batches before it when the
 * writers stay away longer than the queue's time to live; the queue is
 * recreated after it went out), so while the checkpoint stands still the
 * partition is probed again — after twice the wait each time, at most
 * {@link MAX_REPROBE_MS} apart. A long writer outage adds a few probes per
 * partition and then one each {@link MAX_REPROBE_MS} (144 a day, of a few
 * hundred bytes each): the queue, and the backlog capture counts probes in,
 * grow by that little, and a lost probe is replaced within that time.
 */
export class StallProbes {
  readonly #stallMs: number;
  readonly #partitions: PartitionStall[];

  /**
   * @param partitionCount K, the number of partitions capture publishes to.
   * @param stallMs how long a checkpoint stands still before a probe (see {@link stallIntervalMs}).
   */
  constructor(partitionCount: number, stallMs: number) {
    this.#stallMs = stallMs;
    this.#partitions = Array.from({ length: partitionCount }, () => ({
      key: undefined,
      since: 0,
      probes: 0,
      probedAt: 0,
    }));
  }

  /** How long a checkpoint stands still, with batches waiting, before its partition is probed. */
  get stallMs(): number {
    return this.#stallMs;
  }

  /**
   * Records the partition's checkpoint key (`''` for none) as read at
   * `now`. A key that differs from the last one read is a move: the stall
   * clock starts again and probing starts over. Keys only grow, so a key
   * read again unchanged has stood since its first read.
   */
  checkpointRead(partition: number, key: OrderingKey, now: number): void {
    const stall = this.#stall(partition);
    if (stall.key === key) return;
    stall.key = key;
    stall.since = now;
    stall.probes = 0;
  }

  /**
   * The partitions to probe at `now`, each then counted as probed: those
   * with a batch outstanding (`outstandingSince` says since when; undefined
   * for none) that has waited the stall interval, whose checkpoint has been
   * read unmoved for as long — and, when probed already since it moved, not
   * again before twice the previous wait (at most {@link MAX_REPROBE_MS}).
   */
  probeNow(now: number, outstandingSince: (partition: number) => number | undefined): number[] {
    const due: number[] = [];
    for (const [partition, stall] of this.#partitions.entries()) {
      if (stall.key === undefined) continue;
      const waiting = outstandingSince(partition);
      if (waiting === undefined) continue;
      if (now - Math.max(waiting, stall.since) < this.#stallMs) continue;
      if (stall.probes > 0 && now - stall.probedAt < this.#reprobeMs(stall.probes)) continue;
      stall.probes += 1;
      stall.probedAt = now;
      due.push(partition);
    }
    return due;
  }

  /**
   * The partition is re-read from its checkpoint in a new generation: its
   * probe was answered, and should the re-sent batches be lost too, it
   * needs another.
   */
  rewound(partition: number): void {
    this.#stall(partition).probes = 0;
  }

  /** The wait after the `probes`-th probe: the stall interval, doubled per probe, capped. */
  #reprobeMs(probes: number): number {
    return Math.min(MAX_REPROBE_MS, this.#stallMs * 2 ** probes);
  }

  #stall(partition: number): PartitionStall {
    const stall = this.#partitions[partition];
    if (!stall)
      throw new RangeError(`partition ${partition} is outside 0…${this.#partitions.length - 1}`);
    return stall;
  }
}
