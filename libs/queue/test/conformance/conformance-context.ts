import { randomUUID } from 'node:crypto';
import { afterEach } from 'vitest';
import type {
  DeliveredBatch,
  OutgoingBatch,
  PartitionClaims,
  PartitionReader,
  QueueTransport,
} from '../../src/index.ts';
import { eventually } from '../support/eventually.ts';
import type { ConformanceHarness, DisposableBroker, TransportUnderTest } from './harness.ts';

/** One writer's view of its claims, as the tests observe them. */
export interface ObservedWriter {
  readonly claims: PartitionClaims;
  /** Readers owned now, by partition. */
  readonly readers: Map<number, PartitionReader>;
  /** Every reader ever gained, in order. */
  readonly gained: PartitionReader[];
  /** Every partition reported lost, in order. */
  readonly lost: number[];
  /** Every partition this writer was asked to give back, in order. */
  readonly revoked: number[];
}

/** How a test writer behaves. */
export interface WriterBehaviour {
  /**
   * Release a partition as soon as it is asked to give it back, as a writer
   * with no batch in hand does (default true).
   */
  readonly releaseWhenRevoked?: boolean;
}

/** Generous per-test limit; most behaviours take well under a few seconds. */
export const TEST_TIMEOUT_MS = 20_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A batch whose body names it, so what a reader gets can be compared with what was sent. */
export function batch(partition: number, seq: number, generation = 1): OutgoingBatch {
  return {
    partition,
    generation,
    sequence: seq,
    body: encoder.encode(`p${partition}#${seq}${generation === 1 ? '' : `@g${generation}`}`),
    headers: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
  };
}

/** The body of a delivered batch or dead letter, as text. */
export const text = (delivered: { body: Uint8Array }): string => decoder.decode(delivered.body);

/**
 * What every conformance test shares: a fresh harness and namespace, writers
 * whose gains and losses are recorded, and teardown of all of it after each
 * test (in reverse order of opening).
 */
export class ConformanceContext {
  readonly #makeHarness: () => Promise<ConformanceHarness>;
  readonly #cleanups: (() => Promise<void>)[] = [];
  #harness: ConformanceHarness | undefined;

  constructor(makeHarness: () => Promise<ConformanceHarness>) {
    this.#makeHarness = makeHarness;
    afterEach(async () => {
      for (const cleanup of this.#cleanups.splice(0)) await cleanup();
      this.#harness = undefined;
    });
  }

  get harness(): ConformanceHarness {
    if (!this.#harness) throw new Error('call setUp() first');
    return this.#harness;
  }

  /** Runs `cleanup` after the test, before what was opened earlier. */
  readonly later = (cleanup: () => Promise<void>): void => {
    this.#cleanups.unshift(cleanup);
  };

  /** A fresh harness and namespace; `open()` opens one more transport (process) on it. */
  readonly setUp = async (partitionCount: number) => {
    this.#harness = await this.#makeHarness();
    const harness = this.#harness;
    this.later(() => harness.close());
    const namespace = `conf-${randomUUID().slice(0, 8)}`;
    const open = async (): Promise<TransportUnderTest> => {
      const opened = await harness.open(namespace, partitionCount);
      this.later(() => opened.transport.close());
      return opened;
    };
    return { namespace, open };
  };

  /** A fresh harness with a broker of the test's own, and one transport on it. */
  readonly setUpDisposableBroker = async (partitionCount: number) => {
    this.#harness = await this.#makeHarness();
    const harness = this.#harness;
    this.later(() => harness.close());
    const broker: DisposableBroker = await harness.openDisposableBroker();
    this.later(() => broker.close());
    const opened = await broker.open(`conf-${randomUUID().slice(0, 8)}`, partitionCount);
    this.later(() => opened.transport.close());
    return { broker, transport: opened.transport };
  };

  /** Starts claims for `writerId` on `transport`, recording what it gains and loses. */
  readonly startWriter = async (
    transport: QueueTransport,
    writerId: string,
    behaviour: WriterBehaviour = {},
  ): Promise<ObservedWriter> => {
    const observed: ObservedWriter = {
      claims: transport.claims({ writerId }),
      readers: new Map(),
      gained: [],
      lost: [],
      revoked: [],
    };
    this.later(() => observed.claims.stop());
    await observed.claims.start({
      gained: (reader) => {
        observed.readers.set(reader.partition, reader);
        observed.gained.push(reader);
        reader.revoked.addEventListener('abort', () => {
          observed.revoked.push(reader.partition);
          if (behaviour.releaseWhenRevoked === false) return;
          if (observed.readers.get(reader.partition) === reader)
            observed.readers.delete(reader.partition);
          void reader.release();
        });
      },
      lost: (partition) => {
        observed.readers.delete(partition);
        observed.lost.push(partition);
      },
    });
    return observed;
  };

  /** The writer's reader of `partition`, once it owns it. */
  readonly readerOf = (writer: ObservedWriter, partition: number): Promise<PartitionReader> =>
    eventually(`a reader of partition ${partition}`, () => writer.readers.get(partition));

  /** Reads and acknowledges until nothing arrives within `waitMs`. */
  readonly drain = async (reader: PartitionReader, waitMs = 300): Promise<DeliveredBatch[]> => {
    const delivered: DeliveredBatch[] = [];
    for (;;) {
      const next = await reader.next(waitMs);
      if (!next) return delivered;
      delivered.push(next);
      await reader.ack(next);
    }
  };
}
