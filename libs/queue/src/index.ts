export {
  REQUEUED_AT_HEADER,
  type BatchPublisher,
  type ClaimOptions,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterNote,
  type DeadLetterStore,
  type DeliveredBatch,
  type FetchOptions,
  type FetchRoom,
  type MessagingNames,
  type OutgoingBatch,
  type PartitionClaims,
  type PartitionHandlers,
  type PartitionHolder,
  type PartitionReader,
  type QueueTransport,
} from './transport.ts';
export { QueueError, isQueueError, type QueueErrorCode } from './queue-error.ts';
export {
  createTransportFromConfig,
  type TransportHooks,
  type TransportSettings,
} from './transport-from-config.ts';
