import type { Lake } from '@tributary/lake';
import type { CheckpointStore } from './checkpoint-store.ts';
import { createLakeCheckpointStore } from './lake/lake-checkpoint-store.ts';
import { createRedisCheckpointStore } from './redis/redis-checkpoint-store.ts';

/** The checkpoint settings both services read. */
export interface CheckpointSettings {
  readonly checkpointStore: 'lake' | 'redis';
  readonly redisUrl: string;
  readonly queueName: string;
}

/** Opens the checkpoint store the validated settings name; a lake store lives in `lake`. */
export function createCheckpointStoreFromConfig(
  settings: CheckpointSettings,
  lake: Lake,
): CheckpointStore {
  return settings.checkpointStore === 'lake'
    ? createLakeCheckpointStore({ lake })
    : createRedisCheckpointStore({
        redisUrl: settings.redisUrl,
        keyPrefix: `${settings.queueName}:checkpoints:`,
      });
}
