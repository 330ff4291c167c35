import { describe } from 'vitest';
import { describeBrokerLossBehaviours } from './conformance/broker-loss.ts';
import { ConformanceContext } from './conformance/conformance-context.ts';
import { describeDeadLetterBehaviours } from './conformance/dead-letters.ts';
import { describeDeliveryBehaviours } from './conformance/delivery.ts';
import { describeFailureBehaviours } from './conformance/failures.ts';
import type { ConformanceHarness } from './conformance/harness.ts';
import { describeOwnersBehaviours } from './conformance/owners.ts';
import { describeOwnershipBehaviours } from './conformance/ownership.ts';

export type {
  ConformanceHarness,
  DisposableBroker,
  DoomedWriter,
  TransportUnderTest,
} from './conformance/harness.ts';

/**
 * The behaviours every transport adapter must show, against a real broker.
 * Written once for the port; each adapter runs it with its own harness:
 *
 * ```ts
 * describeTransportConformance('BullMQ', makeBullmqHarness);
 * ```
 *
 * Each test asserts on what the transport did — the batches a reader got
 * against the list the test published, who owns what, the dead letters —
 * never on numbers derived the way the adapter derives them.
 */
export function describeTransportConformance(
  name: string,
  makeHarness: () => Promise<ConformanceHarness>,
): void {
  describe(`${name} transport conformance`, () => {
    const ctx = new ConformanceContext(makeHarness);
    describeDeliveryBehaviours(ctx);
    describeOwnershipBehaviours(ctx);
    describeOwnersBehaviours(ctx);
    describeFailureBehaviours(ctx);
    describeDeadLetterBehaviours(ctx);
    describeBrokerLossBehaviours(ctx);
  });
}
