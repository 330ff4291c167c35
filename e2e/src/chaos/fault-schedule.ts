import type { FaultKind, FaultPlanner, PlanSetting, PlannedFault } from './chaos-fault.ts';
import { FAULT_KINDS } from './chaos-fault.ts';
import { adlsThrottling } from './faults/adls-throttling.ts';
import { loseQueuedBatch } from './faults/lose-queued-batch.ts';
import { killCapture } from './faults/kill-capture.ts';
import {
  killWriterBeforeAck,
  killWriterBeforeCheckpoint,
  killWriterInAppend,
} from './faults/kill-partition-owner.ts';
import { restartQueueEmpty } from './faults/restart-queue-empty.ts';
import { SeededRandom } from './seeded-random.ts';

/** Every fault kind's planner. */
const PLANNERS: Readonly<Record<FaultKind, FaultPlanner>> = {
  'kill-capture': killCapture,
  'kill-writer-in-append': killWriterInAppend,
  'kill-writer-before-checkpoint': killWriterBeforeCheckpoint,
  'kill-writer-before-ack': killWriterBeforeAck,
  'restart-queue-empty': restartQueueEmpty,
  'lose-queued-batch': loseQueuedBatch,
  'adls-503s': adlsThrottling,
};

/**
 * The seeded random schedule of a chaos run: round after round, which fault
 * and with which parameters. Kinds are drawn from a shuffled bag — every
 * kind once, in random order, then again — so even a short run meets every
 * kind and a long one meets each about equally often. Everything is drawn
 * from the seed, so the same seed plans the same run.
 */
export class FaultSchedule {
  readonly #random: SeededRandom;
  readonly #setting: PlanSetting;
  #bag: FaultKind[] = [];

  constructor(seed: number, setting: PlanSetting) {
    this.#random = new SeededRandom(seed);
    this.#setting = setting;
  }

  /** The next round's fault. */
  next(): PlannedFault {
    if (this.#bag.length === 0) this.#bag = this.#random.shuffle(FAULT_KINDS);
    const kind = this.#bag.shift() as FaultKind;
    return PLANNERS[kind](this.#random, this.#setting);
  }
}
