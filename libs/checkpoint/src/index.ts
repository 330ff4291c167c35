export type {
  CaptureOrigin,
  CheckpointStore,
  GapReport,
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
  decodeGapReport,
  decodePartitionCheckpoint,
  encodeCaptureOrigin,
  encodeGapReport,
  encodePartitionCheckpoint,
} from './codec/checkpoint-codec.ts';
export {
  createCheckpointStoreFromConfig,
  type CheckpointSettings,
} from './checkpoints-from-config.ts';
export {
  restartPoint,
  timeOfPosition,
  timeOfRestartPoint,
  type RestartPoint,
} from './resume-point/restart-point.ts';
export { headroomIn, readOplogBounds, type OplogBounds } from './resume-point/oplog-window.ts';
