import { isOrderingKey } from '@tributary/core';
import { isLakeError, type Lake } from '@tributary/lake';
import { type Document, EJSON, Timestamp } from 'bson';
import { CheckpointError } from '../checkpoint-error.ts';
import type { CheckpointStore, ResumeOverride } from '../checkpoint-store.ts';
import { asDocument, asSafeInteger } from '../codec/bson-values.ts';

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

/** Whether `path` names a resume-point marker (another kind of marker may share the directory). */
export function isResumeMarkerPath(path: string): boolean {
  const name = path.slice(MARKER_DIRECTORY.length + 1);
  return path.startsWith(`${MARKER_DIRECTORY}/`) && /^resume-point-\d{8}T\d{6}Z\.jsonl$/.test(name);
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

/** A marker as {@link decodeResumeMarker} reads it back: the move, and who misses what. */
export interface ResumeMarker extends ResumeOverride {
  /**
   * For a gap, the partitions whose checkpoints stood before `to` when it
   * was set: theirs are the events after `from` and before `to` that
   * capture never read. Empty for an overlap.
   */
  readonly partitions: readonly number[];
}

/**
 * Reads a marker file's text (its one line, see {@link resumeMarkerLine})
 * back into the move it records, so that readers of the lake in Tributary
 * (`tributary verify`) take the format from the code that writes it.
 *
 * @throws CheckpointError `CORRUPT` naming what is not as written.
 */
export function decodeResumeMarker(text: string): ResumeMarker {
  const problem = (reason: string) =>
    new CheckpointError('CORRUPT', `The resume-point marker cannot be read: ${reason}.`);
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (lines.length !== 1) throw problem(`it holds ${lines.length} lines, not one`);
  let raw: Document | undefined;
  try {
    // Canonical parsing keeps a token's values as their BSON types, as written.
    raw = asDocument(EJSON.parse(lines[0] ?? '', { relaxed: false }));
  } catch (error) {
    throw new CheckpointError('CORRUPT', 'The resume-point marker cannot be read: not JSON.', {
      cause: error,
    });
  }
  if (raw?.marker !== 'resume-point-moved') throw problem('it is no resume-point-moved marker');
  if (raw.kind !== 'gap' && raw.kind !== 'overlap') throw problem('kind is not gap or overlap');
  const from = asDocument(raw.from);
  if (from === undefined || !isOrderingKey(from.key))
    throw problem('from.key is not an ordering key');
  const to = asDocument(raw.to);
  if (to === undefined) throw problem('to is not a document');
  const partitions = raw.kind === 'gap' ? partitionsOf(raw.partitions) : [];
  if (partitions === undefined) throw problem('partitions is not a list of partition numbers');
  const setAt = typeof raw.setAt === 'string' ? new Date(raw.setAt) : undefined;
  if (setAt === undefined || Number.isNaN(setAt.getTime()))
    throw problem('setAt is not an ISO 8601 time');
  const point = (document: Document, name: string) => {
    const time = asDocument(document.clusterTime);
    const [t, i] = [asSafeInteger(time?.t), asSafeInteger(time?.i)];
    if (t === undefined || i === undefined || !isUint32(t) || !isUint32(i))
      throw problem(`${name}.clusterTime has no seconds t and increment i`);
    const token = asDocument(document.token);
    if (document.token !== undefined && token === undefined)
      throw problem(`${name}.token is not a document`);
    return { clusterTime: new Timestamp({ t, i }), ...(token ? { token } : {}) };
  };
  return {
    kind: raw.kind,
    from: { key: from.key, ...point(from, 'from') },
    to: point(to, 'to'),
    setAt,
    partitions,
  };
}

function partitionsOf(value: unknown): number[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const partitions = value.map(asSafeInteger);
  return partitions.every((p): p is number => p !== undefined && p >= 0) ? partitions : undefined;
}

function isUint32(n: number): boolean {
  return n >= 0 && n <= 0xffff_ffff;
}

/**
 * Moves capture's resume point: writes the marker to the lake (see
 * {@link writeResumeMarker}), then stores the override capture honours. In
 * that order, so an override never exists without its marker; a crash or a
 * failure in between leaves a marker of a move that did not happen, and the
 * operator's next attempt writes a second one (it has its own time) —
 * readers see the later marker supersede it, and the resume point stayed
 * where it was. A caller that must say which step failed runs the two
 * steps itself, in this order.
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
  const path = await writeResumeMarker(options);
  await options.checkpoints.writeResumeOverride(options.override);
  return path;
}

/**
 * Writes the marker of a move of the resume point to the lake: the first
 * step of {@link moveResumePoint}. Idempotent for the same move.
 *
 * @returns the marker's path.
 * @throws CheckpointError `CONFLICT` when another move was marked in the same second.
 */
export async function writeResumeMarker(options: {
  readonly lake: Lake;
  readonly override: ResumeOverride;
  readonly partitionsBehind: readonly number[];
}): Promise<string> {
  const { lake, override } = options;
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
  return path;
}
