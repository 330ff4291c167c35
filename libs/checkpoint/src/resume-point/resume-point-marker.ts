import { isLakeError, type Lake } from '@tributary/lake';
import { type Document, EJSON, type Timestamp } from 'bson';
import { CheckpointError } from '../checkpoint-error.ts';
import type { CheckpointStore, ResumeOverride } from '../checkpoint-store.ts';

/**
 * Where markers live: under the lake's reserved `_tributary/` prefix, which
 * holds no data (verification and readers of the data skip it).
 */
export const MARKER_DIRECTORY = '_tributary/markers';

/** Who moved the resume point, as the marker records it. */
export const MOVED_BY = 'tributary resume-point set';

/** The marker of a move set at `setAt`: `…/resume-point-20261121T134000Z.jsonl`. */
export function resumeMarkerPath(setAt: Date): string {
  const stamp = setAt
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
  return `${MARKER_DIRECTORY}/resume-point-${stamp}.jsonl`;
}

/** A clusterTime as a marker shows it: the instant to the second, and the exact Timestamp parts. */
function clusterTimeOf(time: Timestamp): { at: string; t: number; i: number } {
  return {
    at: new Date(time.t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    t: time.t,
    i: time.i,
  };
}

/**
 * The marker's one line: plain (relaxed Extended) JSON a reader of the lake
 * understands without Tributary, saying the resume point moved, which way,
 * from where to where, when, and — for a gap — which partitions' events
 * between the two points are missing from the lake.
 */
export function resumeMarkerLine(
  override: ResumeOverride,
  partitionsBehind: readonly number[],
): string {
  const token = (value: Document | undefined) => (value ? { token: value } : {});
  return `${EJSON.stringify(
    {
      marker: 'resume-point-moved',
      kind: override.kind,
      from: {
        key: override.from.key,
        clusterTime: clusterTimeOf(override.from.clusterTime),
        ...token(override.from.token),
      },
      to: { clusterTime: clusterTimeOf(override.to.clusterTime), ...token(override.to.token) },
      ...(override.kind === 'gap' ? { partitions: partitionsBehind } : {}),
      setAt: override.setAt.toISOString(),
      by: MOVED_BY,
    },
    { relaxed: true },
  )}\n`;
}

/**
 * Moves capture's resume point: writes the marker to the lake, then stores
 * the override capture honours. In that order, so an override never exists
 * without its marker; a crash in between leaves a marker of a move that
 * did not happen, and the operator's next attempt writes a second one (it
 * has its own time) — readers see the later marker supersede it, and the
 * resume point stayed where it was.
 *
 * @param partitionsBehind for a gap, the partitions whose checkpoints stand
 *   before `override.to`: the ones that miss the events in between.
 * @returns the marker's path.
 * @throws CheckpointError `CONFLICT` when another move was marked in the same second.
 */
export async function moveResumePoint(options: {
  readonly lake: Lake;
  readonly checkpoints: CheckpointStore;
  readonly override: ResumeOverride;
  readonly partitionsBehind: readonly number[];
}): Promise<string> {
  const { lake, checkpoints, override } = options;
  const path = resumeMarkerPath(override.setAt);
  const line = new TextEncoder().encode(resumeMarkerLine(override, options.partitionsBehind));
  try {
    await lake.writeDocument(path, line, { ifAbsent: true });
  } catch (error) {
    if (!isLakeError(error) || error.code !== 'CONFLICT') throw error;
    // The same marker, written by a retry whose answer was lost, is this one.
    const stored = await lake.readDocument(path);
    if (!stored || !Buffer.from(stored.data).equals(Buffer.from(line)))
      throw new CheckpointError(
        'CONFLICT',
        `Another move of the resume point was marked in the same second (${path}); nothing was changed. Look at it with 'tributary resume-point show', then run the command again.`,
        { cause: error },
      );
  }
  await checkpoints.writeResumeOverride(override);
  return path;
}
