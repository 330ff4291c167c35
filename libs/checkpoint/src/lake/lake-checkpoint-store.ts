import { isLakeError, type Lake } from '@tributary/lake';
import { CheckpointError } from '../checkpoint-error.ts';
import type {
  CaptureOrigin,
  CapturePresence,
  CheckpointStore,
  GapReport,
  PartitionCheckpoint,
  ResumeOverride,
  Versioned,
} from '../checkpoint-store.ts';
import {
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
} from '../codec/checkpoint-codec.ts';

/** Options of {@link createLakeCheckpointStore}. */
export interface LakeCheckpointStoreOptions {
  /** The lake to keep checkpoints in; the store does not close it. */
  readonly lake: Lake;
  /** Directory of the checkpoint documents (default `_tributary/checkpoints`). */
  readonly prefix?: string;
  /** Directory of the gap reports (default `_tributary/gaps`). */
  readonly gapsPrefix?: string;
}

/**
 * Replacing a gap report races only its own writer's retries, and a
 * presence record or an override has one writer at a time: a few rounds
 * always settle it.
 */
const REPLACE_ATTEMPTS = 3;

/** Parallel reads in {@link LakeCheckpointStore.readAllPartitions}. */
const READ_CONCURRENCY = 16;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Checkpoints as small documents in the lake itself, compare-and-set through
 * the lake's conditional document writes (the version is the lake file's
 * version). It needs nothing beyond the lake, so the pipeline's positions
 * survive Redis restarting empty and live beside the data they describe.
 */
export class LakeCheckpointStore implements CheckpointStore {
  readonly #lake: Lake;
  readonly #prefix: string;
  readonly #gapsPrefix: string;

  constructor(options: LakeCheckpointStoreOptions) {
    this.#lake = options.lake;
    this.#prefix = (options.prefix ?? '_tributary/checkpoints').replace(/\/+$/, '');
    this.#gapsPrefix = (options.gapsPrefix ?? '_tributary/gaps').replace(/\/+$/, '');
  }

  /** Where partition `partition`'s gap report lives, e.g. `…/partition-0003.json`. */
  gapPath(partition: number): string {
    return `${this.#gapsPrefix}/partition-${String(partition).padStart(4, '0')}.json`;
  }

  /** Where partition `partition`'s checkpoint lives, e.g. `…/partition-0003.json`. */
  partitionPath(partition: number): string {
    return `${this.#prefix}/partition-${String(partition).padStart(4, '0')}.json`;
  }

  /** Where capture's origin lives. */
  originPath(): string {
    return `${this.#prefix}/capture-origin.json`;
  }

  /** Where the running capture's presence record lives. */
  presencePath(): string {
    return `${this.#prefix}/capture-presence.json`;
  }

  /** Where the operator's resume override lives. */
  resumeOverridePath(): string {
    return `${this.#prefix}/resume-override.json`;
  }

  async readPartition(partition: number): Promise<Versioned<PartitionCheckpoint> | undefined> {
    const stored = await this.#readConsistent(this.partitionPath(partition));
    if (stored === undefined) return undefined;
    const text = decodeText(stored.data, `checkpoint of partition ${partition}`);
    return { value: decodePartitionCheckpoint(text, partition), version: stored.version };
  }

  async writePartition(
    checkpoint: PartitionCheckpoint,
    expectedVersion: string | undefined,
  ): Promise<string> {
    const path = this.partitionPath(checkpoint.partition);
    const data = encoder.encode(encodePartitionCheckpoint(checkpoint));
    try {
      const state = await this.#lake.writeDocument(
        path,
        data,
        expectedVersion === undefined ? { ifAbsent: true } : { ifVersion: expectedVersion },
      );
      return state.version;
    } catch (error) {
      if (!isLakeError(error) || error.code !== 'CONFLICT')
        throw translate(error, `write the checkpoint of partition ${checkpoint.partition}`);
    }
    // A caller retrying after a lost answer finds its own write stored. The
    // document carries the writer's id, fencing token and time, so the very
    // same bytes are that write, reported as done rather than as a conflict.
    const stored = await this.#readConsistent(path);
    if (stored !== undefined && Buffer.from(stored.data).equals(Buffer.from(data)))
      return stored.version;
    throw new CheckpointError(
      'CONFLICT',
      `Could not write the checkpoint of partition ${checkpoint.partition}: another writer stored one since.`,
    );
  }

  async readAllPartitions(partitionCount: number): Promise<Map<number, PartitionCheckpoint>> {
    // One listing finds which partitions have a checkpoint, instead of one
    // request per partition, most of which may have none yet.
    const wanted = new Map<string, number>();
    for (let p = 0; p < partitionCount; p += 1) wanted.set(this.partitionPath(p), p);
    const present: number[] = [];
    try {
      for await (const entry of this.#lake.list(this.#prefix)) {
        const partition = wanted.get(entry.path);
        if (partition !== undefined) present.push(partition);
      }
    } catch (error) {
      throw translate(error, 'list the checkpoints');
    }
    const result = new Map<number, PartitionCheckpoint>();
    for (let i = 0; i < present.length; i += READ_CONCURRENCY) {
      const chunk = present.slice(i, i + READ_CONCURRENCY);
      const read = await Promise.all(chunk.map((p) => this.readPartition(p)));
      read.forEach((stored, j) => {
        const partition = chunk[j];
        if (stored !== undefined && partition !== undefined) result.set(partition, stored.value);
      });
    }
    return result;
  }

  async reportGap(report: GapReport): Promise<void> {
    // Only the partition's owner reports its gaps: a conflict is its own
    // earlier attempt, whose answer was lost. Read again and replace.
    await this.#replace(
      this.gapPath(report.partition),
      encodeGapReport(report),
      `report a gap of partition ${report.partition}`,
    );
  }

  async clearGap(report: GapReport): Promise<void> {
    const path = this.gapPath(report.partition);
    const expected = Buffer.from(encoder.encode(encodeGapReport(report)));
    const stored = await this.#readConsistent(path);
    if (stored === undefined || !Buffer.from(stored.data).equals(expected)) return;
    try {
      await this.#lake.delete(path, { ifVersion: stored.version });
    } catch (error) {
      // Replaced since it was read: a newer report, which stays.
      if (isLakeError(error) && error.code === 'CONFLICT') return;
      throw translate(error, `clear the gap report of partition ${report.partition}`);
    }
  }

  async readGaps(): Promise<GapReport[]> {
    const reports: GapReport[] = [];
    try {
      for await (const entry of this.#lake.list(this.#gapsPrefix)) {
        const partition = /\/partition-(\d{4})\.json$/.exec(entry.path)?.[1];
        if (partition === undefined || entry.path !== this.gapPath(Number(partition))) continue;
        const stored = await this.#readConsistent(entry.path);
        if (stored === undefined) continue; // cleared meanwhile
        const text = decodeText(stored.data, `gap report of partition ${Number(partition)}`);
        reports.push(decodeGapReport(text, Number(partition)));
      }
    } catch (error) {
      throw translate(error, 'read the gap reports');
    }
    return reports;
  }

  async readOrigin(): Promise<CaptureOrigin | undefined> {
    const stored = await this.#readConsistent(this.originPath());
    return stored === undefined
      ? undefined
      : decodeCaptureOrigin(decodeText(stored.data, 'capture origin'));
  }

  async writeOriginIfAbsent(origin: CaptureOrigin): Promise<CaptureOrigin> {
    const text = encodeCaptureOrigin(origin);
    try {
      await this.#lake.writeDocument(this.originPath(), encoder.encode(text), { ifAbsent: true });
      return decodeCaptureOrigin(text);
    } catch (error) {
      if (!isLakeError(error) || error.code !== 'CONFLICT')
        throw translate(error, 'write the capture origin');
    }
    // Another capture stored one first: that one is the origin.
    const stored = await this.readOrigin();
    if (stored === undefined)
      throw new CheckpointError('UNAVAILABLE', 'The capture origin vanished after a conflict.');
    return stored;
  }

  async writePresence(presence: CapturePresence): Promise<void> {
    await this.#replace(this.presencePath(), encodeCapturePresence(presence), 'report presence');
  }

  async readPresence(): Promise<CapturePresence | undefined> {
    const stored = await this.#readConsistent(this.presencePath());
    return stored === undefined
      ? undefined
      : decodeCapturePresence(decodeText(stored.data, 'capture presence record'));
  }

  async clearPresence(captureId: string): Promise<void> {
    await this.#deleteIf(
      this.presencePath(),
      (text) => decodeCapturePresence(text).captureId === captureId,
      'clear the presence record',
    );
  }

  async readResumeOverride(): Promise<ResumeOverride | undefined> {
    const stored = await this.#readConsistent(this.resumeOverridePath());
    return stored === undefined
      ? undefined
      : decodeResumeOverride(decodeText(stored.data, 'resume override'));
  }

  async writeResumeOverride(override: ResumeOverride): Promise<void> {
    await this.#replace(
      this.resumeOverridePath(),
      encodeResumeOverride(override),
      'store the resume override',
    );
  }

  async clearResumeOverride(override: ResumeOverride): Promise<void> {
    const expected = encodeResumeOverride(override);
    await this.#deleteIf(
      this.resumeOverridePath(),
      (text) => text === expected,
      'clear the resume override',
    );
  }

  /**
   * Replaces a document whatever it holds: read its version, write under
   * it, and on a conflict (another write in between) read and write again.
   * Last writer wins — the records written this way have one writer at a
   * time (capture's presence, an operator's override).
   */
  async #replace(path: string, text: string, operation: string): Promise<void> {
    const data = encoder.encode(text);
    for (let attempt = 1; ; attempt += 1) {
      const stored = await this.#readConsistent(path);
      try {
        await this.#lake.writeDocument(
          path,
          data,
          stored === undefined ? { ifAbsent: true } : { ifVersion: stored.version },
        );
        return;
      } catch (error) {
        if (!isLakeError(error) || error.code !== 'CONFLICT' || attempt >= REPLACE_ATTEMPTS)
          throw translate(error, operation);
      }
    }
  }

  /** Deletes a document if `matches` its text, and only the version read: a newer one stays. */
  async #deleteIf(
    path: string,
    matches: (text: string) => boolean,
    operation: string,
  ): Promise<void> {
    const stored = await this.#readConsistent(path);
    if (stored === undefined || !matches(decodeText(stored.data, path))) return;
    try {
      await this.#lake.delete(path, { ifVersion: stored.version });
    } catch (error) {
      // Replaced since it was read: a newer record, which stays.
      if (isLakeError(error) && error.code === 'CONFLICT') return;
      throw translate(error, operation);
    }
  }

  /** Nothing to release: the lake belongs to the caller, who closes it. */
  async close(): Promise<void> {}

  /**
   * The document's bytes with the version they belong to, from the lake's
   * one-step read: a version paired with newer content would let a stale
   * writer's compare-and-set pass.
   */
  async #readConsistent(path: string): Promise<{ data: Uint8Array; version: string } | undefined> {
    try {
      const stored = await this.#lake.readDocument(path);
      return stored === undefined
        ? undefined
        : { data: stored.data, version: stored.state.version };
    } catch (error) {
      throw translate(error, `read ${path}`);
    }
  }
}

function decodeText(data: Uint8Array, what: string): string {
  try {
    return decoder.decode(data);
  } catch (error) {
    throw new CheckpointError('CORRUPT', `The stored ${what} is not UTF-8.`, { cause: error });
  }
}

/**
 * Lake errors in checkpoint terms: a failed condition is a lost partition
 * (`CONFLICT`); everything else is `UNAVAILABLE`, including credentials the
 * lake refused, since the port has no code for a configuration fault (the
 * lake error stays attached as the cause).
 */
function translate(error: unknown, operation: string): CheckpointError {
  if (error instanceof CheckpointError) return error;
  if (isLakeError(error) && error.code === 'CONFLICT')
    return new CheckpointError(
      'CONFLICT',
      `Could not ${operation}: another writer stored one since.`,
      {
        cause: error,
      },
    );
  const reason = isLakeError(error) ? error.code : 'unexpected error';
  return new CheckpointError('UNAVAILABLE', `Could not ${operation} (${reason}).`, {
    cause: error,
  });
}

/** Creates a checkpoint store kept in the lake (see {@link LakeCheckpointStore}). */
export function createLakeCheckpointStore(options: LakeCheckpointStoreOptions): CheckpointStore {
  return new LakeCheckpointStore(options);
}
