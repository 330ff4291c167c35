/**
 * One load-generating process of the Service Bus emulator benchmark (see
 * `bench.ts`): the official SDK sending batches of messages, or receiving in
 * peek-lock and completing each message. Forked with IPC: it prepares, says
 * `ready`, starts on `go`, and reports `done` with its count and own CPU.
 */
import {
  ServiceBusClient,
  type ServiceBusReceiver,
  type ServiceBusSender,
} from '@azure/service-bus';

/** What the orchestrator tells a worker to do. */
export interface WorkerTask {
  connectionString: string;
  queue: string;
  mode: 'send' | 'receive';
  durationMs: number;
  /** Concurrent batches (send) or receive loops (receive). */
  concurrency: number;
  /** Messages per batch (send) or per receive call (receive). */
  batchSize: number;
  messageBytes: number;
}

/** The worker's report. */
export interface DoneMessage {
  type: 'done';
  count: number;
  elapsedMs: number;
  cpuSeconds: number;
}

const send = (message: unknown): void => {
  process.send?.(message);
};

async function sendLoop(
  sender: ServiceBusSender,
  task: WorkerTask,
  until: () => boolean,
  counted: (n: number) => void,
): Promise<void> {
  const body = Buffer.alloc(task.messageBytes, 0x61);
  let n = 0;
  while (!until()) {
    const batch = await sender.createMessageBatch();
    for (let i = 0; i < task.batchSize; i++) {
      if (!batch.tryAddMessage({ body, messageId: `${process.pid}-${n++}` })) break;
    }
    await sender.sendMessages(batch);
    counted(batch.count);
  }
}

async function receiveLoop(
  receiver: ServiceBusReceiver,
  task: WorkerTask,
  until: () => boolean,
  counted: (n: number) => void,
): Promise<void> {
  while (!until()) {
    const messages = await receiver.receiveMessages(task.batchSize, { maxWaitTimeInMs: 1000 });
    await Promise.all(messages.map((m) => receiver.completeMessage(m)));
    counted(messages.length);
  }
}

async function run(task: WorkerTask): Promise<void> {
  const client = new ServiceBusClient(task.connectionString, {
    retryOptions: { maxRetries: 2, timeoutInMs: 30_000 },
  });
  try {
    const sender = task.mode === 'send' ? client.createSender(task.queue) : undefined;
    const receivers =
      task.mode === 'receive'
        ? Array.from({ length: task.concurrency }, () =>
            client.createReceiver(task.queue, { maxAutoLockRenewalDurationInMs: 0 }),
          )
        : [];
    // Open the links before the clock starts.
    if (sender) await sender.createMessageBatch();
    for (const r of receivers) await r.peekMessages(1);
    send({ type: 'ready' });
    await new Promise<void>((resolve) => process.once('message', () => resolve()));
    const cpuBefore = process.cpuUsage();
    const started = Date.now();
    const until = (): boolean => Date.now() - started >= task.durationMs;
    // Everything that completes counts, the operations still in flight at the
    // deadline included: the orchestrator measures the emulator's CPU until
    // every worker is done.
    let count = 0;
    const counted = (n: number): void => {
      count += n;
    };
    const loops =
      task.mode === 'send'
        ? Array.from({ length: task.concurrency }, () => sendLoop(sender!, task, until, counted))
        : receivers.map((r) => receiveLoop(r, task, until, counted));
    await Promise.all(loops);
    const cpu = process.cpuUsage(cpuBefore);
    const done: DoneMessage = {
      type: 'done',
      count,
      elapsedMs: Date.now() - started,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
    send(done);
  } finally {
    await client.close();
  }
}

const task = JSON.parse(process.argv[2] ?? '{}') as WorkerTask;
run(task).then(
  () => process.exit(0),
  (error: unknown) => {
    send({ type: 'error', error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  },
);
