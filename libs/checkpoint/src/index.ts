export type {
  CaptureOrigin,
  CheckpointStore,
  OpenFileRecord,
  PartitionCheckpoint,
  Versioned,
} from './checkpoint-store.ts';
export {
  CheckpointError,
  isCheckpointError,
  type CheckpointErrorCode,
} from './checkpoint-error.ts';
export {
  createLakeCheckpointStore,
  type LakeCheckpointStoreOptions,
} from './lake/lake-checkpoint-store.ts';
export {
  createRedisCheckpointStore,
  type RedisCheckpointStoreOptions,
} from './redis/redis-checkpoint-store.ts';
export {
  CHECKPOINT_FORMAT_VERSION,
  decodeCaptureOrigin,
  decodePartitionCheckpoint,
  encodeCaptureOrigin,
  encodePartitionCheckpoint,
} from './codec/checkpoint-codec.ts';
export {
  createCheckpointStoreFromConfig,
  type CheckpointSettings,
} from './checkpoints-from-config.ts';
