/**
 * How a writer spreads partitions over the live writers, whatever records
 * who owns what (Redis leases, Service Bus session locks). Pure, so every
 * transport's claims follow the same rules and the rules are tested once.
 */

/** What a writer knows at one tick. */
export interface ShareInput {
  /** Partitions it owns now, ascending. */
  readonly owned: readonly number[];
  readonly partitionCount: number;
  /** Live writers, itself included (at least 1). */
  readonly live: number;
  /** Other live writers that own fewer than their floor share. */
  readonly othersHungry: number;
}

/** What the writer does next. */
export type ShareStep =
  /** Ask for these back (highest-numbered first), so hungry writers can take them. */
  | { readonly kind: 'revoke'; readonly partitions: readonly number[] }
  /** Take free partitions until it owns `upTo`. */
  | { readonly kind: 'acquire'; readonly upTo: number }
  | { readonly kind: 'hold' };

/**
 * A writer is hungry while it owns fewer than floor(K / live) partitions.
 * Partitions it is cooling off count as owned: giving one up on request
 * must not make it ask for more at once.
 */
export function isHungry(
  input: Omit<ShareInput, 'othersHungry'> & {
    /** Partitions it gave back on request and must not take again yet. */
    readonly cooling: number;
  },
): boolean {
  const { owned, cooling, partitionCount, live } = input;
  return owned.length + cooling < Math.floor(partitionCount / Math.max(1, live));
}

/**
 * With floor = floor(K / live) and share = ceil(K / live): while another
 * writer is hungry, a writer owning more than floor gives the extras back
 * and one owning fewer takes free partitions only up to floor — so the
 * hungry one gets them; with nobody hungry, a writer takes free partitions
 * up to its share, and then any partition left free, so none stays without
 * an owner. (Giving back only above share would leave a writer hungry for
 * good: with 16 partitions and 3 writers, 6/6/4.)
 */
export function nextShareStep(input: ShareInput): ShareStep {
  const { owned, partitionCount, live, othersHungry } = input;
  const floor = Math.floor(partitionCount / Math.max(1, live));
  const share = Math.ceil(partitionCount / Math.max(1, live));
  if (othersHungry > 0) {
    if (owned.length > floor) return { kind: 'revoke', partitions: owned.slice(floor) };
    if (owned.length < floor) return { kind: 'acquire', upTo: floor };
    return { kind: 'hold' };
  }
  if (owned.length < share) return { kind: 'acquire', upTo: share };
  if (owned.length < partitionCount) return { kind: 'acquire', upTo: partitionCount };
  return { kind: 'hold' };
}

/** What a failed renewal of a partition's lease or lock means. */
export type RenewalVerdict = 'lost' | 'revoke' | 'wait';

/**
 * A renewal failed with `code`, `sinceRenewedMs` after the last one that
 * reached the broker. Anything but the broker being unreachable means the
 * lease is gone; unreachable, it may well still hold — a passing failure
 * changes nothing, once half of it is gone unrenewed the writer is asked to
 * give the partition back while it surely still holds, and once it must
 * have expired the partition is lost.
 */
export function renewalVerdict(
  code: string,
  sinceRenewedMs: number,
  leaseTtlMs: number,
): RenewalVerdict {
  if (code !== 'UNAVAILABLE' || sinceRenewedMs >= leaseTtlMs) return 'lost';
  return sinceRenewedMs >= leaseTtlMs / 2 ? 'revoke' : 'wait';
}

/** A stable number for a writer id: where it starts looking for free partitions. */
export function searchOffsetOf(writerId: string, partitionCount: number): number {
  let hash = 0;
  for (const char of writerId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % partitionCount;
}
