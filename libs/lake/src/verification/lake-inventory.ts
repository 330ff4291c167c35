import type { Lake } from '../lake.ts';
import { type ScannedFile, scanLake } from './lake-scan.ts';

export { STATE_PREFIX } from './lake-scan.ts';

/** One data file as read back. */
export type FileInventory = ScannedFile;

/** Everything the data files hold, as read back line by line. */
export interface LakeInventory {
  readonly files: readonly FileInventory[];
  readonly lines: number;
  /** How many lines carry each resume token (`_data`). */
  readonly tokens: ReadonlyMap<string, number>;
  /** The directories holding each resume token's lines (`_data` → directories). */
  readonly directories: ReadonlyMap<string, readonly string[]>;
  /** Lines per partition, from `_tributary.partition`. */
  readonly partitions: ReadonlyMap<number, number>;
  /** Each rule a file or line breaks, in words. Empty when the lake is well-formed. */
  readonly problems: readonly string[];
}

/**
 * Reads every data file and checks what a reader relies on (see
 * {@link scanLake}): each line is Extended JSON with its `_tributary`
 * metadata; keys are unique; inside a file the keys strictly increase
 * (change order), and so do they from one file of a partition to the next
 * in the same directory (files never overlap); a file is named after its
 * first key and its partition; each line sits in the directory its event
 * time and namespace give under `pathTemplate`. On top of the scan it
 * records every resume token's lines and directories, for comparing with
 * a source's own record of events — which holds every token in memory, so
 * it is for test-sized lakes; `tributary verify` uses {@link scanLake}.
 */
export async function inventoryLake(lake: Lake, pathTemplate: string): Promise<LakeInventory> {
  const tokens = new Map<string, number>();
  const directories = new Map<string, string[]>();
  const partitions = new Map<number, number>();
  const scan = await scanLake(lake, {
    pathTemplate,
    onLine: ({ path, event }) => {
      const meta = event._tributary;
      const token = String(meta.resumeToken._data);
      tokens.set(token, (tokens.get(token) ?? 0) + 1);
      const dir = path.slice(0, path.lastIndexOf('/'));
      const seenIn = directories.get(token);
      if (seenIn) seenIn.push(dir);
      else directories.set(token, [dir]);
      partitions.set(meta.partition, (partitions.get(meta.partition) ?? 0) + 1);
    },
  });
  return {
    files: scan.files,
    lines: scan.lines,
    tokens,
    directories,
    partitions,
    problems: scan.findings.map((finding) => finding.message),
  };
}

/** The lake against the source's own record of events. */
export interface SourceComparison {
  /** Events the source recorded. */
  readonly produced: number;
  /** Lines in the lake for those events. */
  readonly inLake: number;
  /** Source events with no line. */
  readonly missing: readonly string[];
  /** Source events with more than one line. */
  readonly duplicated: readonly string[];
  /** Lines whose event the source does not know. */
  readonly unexpected: readonly string[];
}

/** Compares an inventory with the resume tokens the source recorded (e.g. the oplog). */
export function compareWithSource(
  inventory: LakeInventory,
  sourceTokens: readonly string[],
): SourceComparison {
  const source = new Set(sourceTokens);
  const missing: string[] = [];
  const duplicated: string[] = [];
  let inLake = 0;
  for (const token of source) {
    const count = inventory.tokens.get(token) ?? 0;
    if (count === 0) missing.push(token);
    if (count > 1) duplicated.push(token);
    inLake += count;
  }
  const unexpected = [...inventory.tokens.keys()].filter((t) => !source.has(t));
  return { produced: source.size, inLake, missing, duplicated, unexpected };
}
