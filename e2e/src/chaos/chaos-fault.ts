import type { ChaosDeployment } from './chaos-deployment.ts';
import type { DeadLetterCensus } from './dead-letter-census.ts';
import type { SeededRandom } from './seeded-random.ts';

/** The kinds of fault a round can inject. */
export const FAULT_KINDS = [
  'kill-capture',
  'kill-writer-in-append',
  'kill-writer-before-checkpoint',
  'kill-writer-before-ack',
  'restart-queue-empty',
  'lose-queued-batch',
  'adls-503s',
] as const;

/** One kind of fault. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What a fault may use while it is injected. */
export interface FaultContext {
  readonly deployment: ChaosDeployment;
  readonly deadLetters: DeadLetterCensus;
  /** The round, for labels (`round 17`). */
  readonly label: string;
}

/** What a fault did. */
export interface FaultOutcome {
  /**
   * The progress line, e.g. `kill writer w2 between checkpoint and
   * acknowledgement (partition 5)`.
   */
  readonly summary: string;
  /**
   * False when the moment the fault waits for never came (no flush of the
   * partition within the wait): nothing was done, and the round only ran.
   */
  readonly landed: boolean;
  /**
   * Set when the fault saw the pipeline fail to recover within its bound
   * (a deleted batch whose events never reached the lake): what it saw.
   */
  readonly unhealedGap?: string;
}

/** A fault with its parameters drawn: ready to inject. */
export interface PlannedFault {
  readonly kind: FaultKind;
  /** Injects the fault and restarts whatever it killed. */
  inject(context: FaultContext): Promise<FaultOutcome>;
}

/** What a plan may draw from, besides the random generator. */
export interface PlanSetting {
  /** Partitions the load writes to: the targets of faults aimed at a partition's data. */
  readonly dataPartitions: readonly number[];
}

/** Draws a fault's parameters; everything random about a fault is drawn here, from the seed. */
export type FaultPlanner = (random: SeededRandom, setting: PlanSetting) => PlannedFault;
