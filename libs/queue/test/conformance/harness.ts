import type { QueueTransport } from '../../src/index.ts';

/** A transport as one process opened it, plus a way to make that process vanish. */
export interface TransportUnderTest {
  readonly transport: QueueTransport;
  /** Cuts it off the broker at once, as if its process died: nothing released, nothing renewed. */
  sever(): Promise<void>;
}

/** A broker of the test's own, which it may wipe or restart (the shared one never is). */
export interface DisposableBroker {
  open(namespace: string, partitionCount: number): Promise<TransportUnderTest>;
  /** Loses every message, lease and dead letter at once (Redis FLUSHALL). */
  wipe(): Promise<void>;
  /** Stops the broker; until {@link DisposableBroker.start} nothing can reach it. */
  stop(): Promise<void>;
  /** Starts it again, empty, where it was. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A writer in a child process that holds a batch it failed once, until it is SIGKILLed. */
export interface DoomedWriter {
  /** The id of the batch it holds and the attempts it recorded, once it holds it. */
  readonly holding: Promise<{ id: string; failedAttempts: number }>;
  /** SIGKILL, then waits for the process to be gone. */
  kill(): Promise<void>;
}

/** What an adapter provides to run the suite. */
export interface ConformanceHarness {
  /** Lease TTL of the suite's writers: short, so takeovers happen within seconds. */
  readonly leaseTtlMs: number;
  /** The largest batch body the transports it opens accept. */
  readonly maxBatchBytes: number;
  /** Whether the transport's publisher counts the batches waiting (`backlog`). */
  readonly countsBacklog: boolean;
  /** Whether the transport can tell that it lost its whole contents (`contentsEpoch`). */
  readonly detectsContentsLoss: boolean;
  /** A transport over the partitions of `namespace` (fresh per test), as one process opens it. */
  open(namespace: string, partitionCount: number): Promise<TransportUnderTest>;
  openDisposableBroker(): Promise<DisposableBroker>;
  /**
   * Starts a writer process that owns every partition of `namespace`, takes
   * the first batch of partition 0, fails it once and keeps holding it.
   */
  spawnDoomedWriter(namespace: string, partitionCount: number): Promise<DoomedWriter>;
  close(): Promise<void>;
}
