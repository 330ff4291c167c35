export type {
  BatchPublisher,
  ClaimOptions,
  DeadLetter,
  DeadLetterStore,
  DeliveredBatch,
  OutgoingBatch,
  PartitionClaims,
  PartitionHandlers,
  PartitionReader,
  QueueTransport,
} from './transport.ts';
export { QueueError, isQueueError, type QueueErrorCode } from './queue-error.ts';
export { createBullmqTransport } from './bullmq/bullmq-transport.ts';
export type { BullmqTransportOptions } from './bullmq/bullmq-options.ts';
export { REQUEUED_AT_HEADER } from './bullmq/bullmq-dead-letters.ts';
