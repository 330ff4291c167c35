import {
  type CaptureOrigin,
  type CapturePresence,
  type OplogBounds,
  type PartitionCheckpoint,
  type ResumeOverride,
  readOplogBounds,
} from '@tributary/checkpoint';
import type { CommandContext } from '../command.ts';
import { readingOf } from '../status/read-status.ts';
import type { Unreadable } from '../status/status-report.ts';

/** What `tributary resume-point` reads before it shows or moves anything. */
export interface ResumePointInputs {
  /** When it was read (ms since the epoch). */
  readonly now: number;
  readonly partitionCount: number;
  readonly checkpoints: ReadonlyMap<number, PartitionCheckpoint>;
  /** Capture's origin; absent before capture first started. */
  readonly origin: CaptureOrigin | undefined;
  readonly override: ResumeOverride | undefined;
  /** The presence record of the capture that reported last. */
  readonly presence: CapturePresence | undefined;
  /** The oplog's window; `not-configured` without MONGODB_URI, `empty` for an empty oplog. */
  readonly oplog: OplogBounds | 'not-configured' | 'empty' | Unreadable;
}

/**
 * Reads the checkpoints, origin, override and capture's presence record —
 * the core, which must be read — and, with MONGODB_URI, the oplog window,
 * which may be unreadable (and is then said to be).
 */
export async function readResumePoint(ctx: CommandContext): Promise<ResumePointInputs> {
  const { config, systems } = ctx;
  const [oplog, stored] = await Promise.all([
    config.mongodbUri
      ? readingOf(async () => (await readOplogBounds(await systems.mongo())) ?? ('empty' as const))
      : ('not-configured' as const),
    systems
      .checkpoints()
      .then((store) =>
        Promise.all([
          store.readAllPartitions(config.partitionCount),
          store.readOrigin(),
          store.readResumeOverride(),
          store.readPresence(),
        ]),
      ),
  ]);
  const [checkpoints, origin, override, presence] = stored;
  return {
    now: ctx.now(),
    partitionCount: config.partitionCount,
    checkpoints,
    origin,
    override,
    presence,
    oplog,
  };
}
