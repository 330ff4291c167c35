/**
 * Where a partition lives in Redis: its BullMQ queue, the id of a batch in
 * it, and the keys of the ownership lease around it.
 */
export class PartitionLayout {
  readonly queueName: string;
  readonly prefix: string;
  readonly partitionCount: number;

  constructor(options: { queueName: string; prefix: string; partitionCount: number }) {
    this.queueName = options.queueName;
    this.prefix = options.prefix;
    this.partitionCount = options.partitionCount;
  }

  /** The BullMQ queue that is partition `p`'s line. */
  queueOf(partition: number): string {
    return `${this.queueName}-p${partition}`;
  }

  /**
   * The job id of a batch: partition, capture's rewind generation and the
   * batch's sequence in it name it, so BullMQ ignores a second publish of
   * the same batch while the first copy exists, and a batch re-sent after a
   * rewind (a new generation) never collides with a stale copy. BullMQ 6
   * refuses ':' in custom ids (it separates key parts), hence `.`.
   */
  jobIdOf(partition: number, generation: number, sequence: number): string {
    return `p${partition}.g${generation}.s${sequence}`;
  }

  /** The key holding the queue epoch (see `readQueueEpoch`). */
  epochKey(): string {
    return `${this.prefix}:${this.queueName}:epoch`;
  }

  /** The partition a job id belongs to, or `undefined` for an id this layout never made. */
  partitionOfJobId(id: string): number | undefined {
    const match = /^p(\d+)\./.exec(id);
    const partition = match ? Number(match[1]) : NaN;
    return Number.isInteger(partition) && partition < this.partitionCount ? partition : undefined;
  }

  /** The lease of partition `p`: `<writerId>|<fencingToken>` with a TTL. */
  leaseKey(partition: number): string {
    return `${this.prefix}:${this.queueName}:lease:${partition}`;
  }

  /** The last fencing token handed out for partition `p` (never expires). */
  fenceKey(partition: number): string {
    return `${this.prefix}:${this.queueName}:fence:${partition}`;
  }

  /** Sorted set of live writers, scored by when their presence expires. */
  presenceKey(): string {
    return `${this.prefix}:${this.queueName}:writers`;
  }

  /** Sorted set of live writers that own fewer partitions than their share, scored by expiry. */
  hungerKey(): string {
    return `${this.prefix}:${this.queueName}:hungry`;
  }

  /** Every partition number, 0 … K-1. */
  partitions(): number[] {
    return Array.from({ length: this.partitionCount }, (_, p) => p);
  }
}
