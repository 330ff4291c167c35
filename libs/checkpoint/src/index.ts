export type {
  CaptureOrigin,
  CapturePresence,
  CheckpointStore,
  GapReport,
  OpenFileRecord,
  PartitionCheckpoint,
  ResumeOverride,
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
  decodeCapturePresence,
  decodeGapReport,
  decodePartitionCheckpoint,
  decodeResumeOverride,
  encodeCaptureOrigin,
  encodeCapturePresence,
  encodeGapReport,
  encodePartitionCheckpoint,
  encodeResumeOverride,
} from './codec/checkpoint-codec.ts';
export {
  PRESENCE_FRESH_MS,
  PRESENCE_INTERVAL_MS,
  isPresenceFresh,
  presenceAgeMs,
} from './presence-freshness.ts';
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
export {
  captureResumePoint,
  clusterTimeOfRestartPoint,
  compareClusterTimes,
  keyOfRestartPoint,
  partitionsBefore,
  restartAt,
  resumeMoveKind,
  resumeOverrideApplies,
  withResumeOverride,
  type CaptureResumePoint,
  type ReadOccasion,
  type ResumePointSource,
} from './resume-point/resume-override.ts';
export {
  MARKER_DIRECTORY,
  MOVED_BY,
  decodeResumeMarker,
  isResumeMarkerPath,
  moveResumePoint,
  resumeMarkerLine,
  resumeMarkerPath,
  writeResumeMarker,
  type ResumeMarker,
} from './resume-point/resume-point-marker.ts';
