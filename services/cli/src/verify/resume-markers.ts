import {
  MARKER_DIRECTORY,
  type ResumeMarker,
  decodeResumeMarker,
  isCheckpointError,
  isResumeMarkerPath,
} from '@tributary/checkpoint';
import type { Lake } from '@tributary/lake';
import { instantOfTimestamp } from './cluster-instant.ts';
import { isoOf } from './replay-history.ts';
import type { MarkerSummary } from './verify-report.ts';

/** A resume-point marker found in the lake. */
export interface FoundMarker {
  readonly path: string;
  readonly marker: ResumeMarker;
}

/** The resume-point markers of the lake, and those that could not be read. */
export interface ResumeMarkers {
  /** By path, which is by the time each move was set. */
  readonly found: readonly FoundMarker[];
  readonly unreadable: readonly { readonly path: string; readonly reason: string }[];
}

/**
 * Reads every resume-point marker `tributary resume-point set` wrote to the
 * lake, through the lake port and the marker's own decoder. A marker that
 * cannot be read is set aside with its reason, not guessed at: the events it
 * might explain then count as missing.
 */
export async function readResumeMarkers(lake: Lake): Promise<ResumeMarkers> {
  const paths: string[] = [];
  for await (const entry of lake.list(MARKER_DIRECTORY))
    if (isResumeMarkerPath(entry.path)) paths.push(entry.path);
  const found: FoundMarker[] = [];
  const unreadable: { path: string; reason: string }[] = [];
  for (const path of paths.sort()) {
    const text = new TextDecoder().decode(await lake.read(path));
    try {
      found.push({ path, marker: decodeResumeMarker(text) });
    } catch (error) {
      if (!isCheckpointError(error) || error.code !== 'CORRUPT') throw error;
      unreadable.push({ path, reason: error.message });
    }
  }
  return { found, unreadable };
}

/** A marker as the report lists it. */
export function markerSummary({ path, marker }: FoundMarker): MarkerSummary {
  const point = (time: ResumeMarker['to']['clusterTime']) => {
    const instant = instantOfTimestamp(time);
    return { at: isoOf(instant), ...instant };
  };
  return {
    path,
    kind: marker.kind,
    from: { key: marker.from.key, clusterTime: point(marker.from.clusterTime) },
    to: { clusterTime: point(marker.to.clusterTime) },
    ...(marker.kind === 'gap' ? { partitions: marker.partitions } : {}),
    setAt: marker.setAt.toISOString(),
  };
}
