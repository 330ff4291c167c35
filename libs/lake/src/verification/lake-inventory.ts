import { decodeLine, eventTimeOfKey, renderPath } from '@tributary/core';
import type { Lake } from '../lake.ts';

/** Where Tributary keeps its own state in the lake; never data. */
export const STATE_PREFIX = '_tributary/';

const FILE_NAME = /^part-(\d{4})-(\d{10}-\d{10}-\d{10})\.jsonl$/;

/** One data file as read back. */
export interface FileInventory {
  readonly path: string;
  readonly partition: number;
  readonly lines: number;
  readonly bytes: number;
  readonly firstKey: string;
  readonly lastKey: string;
}

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
 * Reads every data file and checks what a reader relies on: each line is
 * Extended JSON with its `_tributary` metadata; inside a file the keys
 * strictly increase (change order), and so do they from one file of a
 * partition to the next in the same directory (files never overlap); a file
 * is named after its first key and its partition; each line sits in the
 * directory its event time and namespace give under `pathTemplate`.
 */
export async function inventoryLake(lake: Lake, pathTemplate: string): Promise<LakeInventory> {
  const files: FileInventory[] = [];
  const tokens = new Map<string, number>();
  const directories = new Map<string, string[]>();
  const partitions = new Map<number, number>();
  const problems: string[] = [];
  let total = 0;
  const paths: string[] = [];
  for await (const entry of lake.list('')) {
    if (!entry.path.startsWith(STATE_PREFIX)) paths.push(entry.path);
  }
  for (const path of paths.sort()) {
    const slash = path.lastIndexOf('/');
    const name = FILE_NAME.exec(path.slice(slash + 1));
    if (!name) {
      problems.push(`${path}: not a Tributary file name (part-<pppp>-<firstKey>.jsonl)`);
      continue;
    }
    const filePartition = Number(name[1]);
    const bytes = await lake.read(path);
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    if (text.length > 0 && !text.endsWith('\n'))
      problems.push(`${path}: last line is not terminated`);
    let previous = '';
    let first = '';
    let count = 0;
    for (const [index, line] of text.split('\n').entries()) {
      if (line.length === 0) continue;
      let decoded;
      try {
        decoded = decodeLine(line);
      } catch (error) {
        problems.push(`${path}:${index + 1}: not Extended JSON (${(error as Error).message})`);
        continue;
      }
      const meta = decoded._tributary;
      const token = String((meta.resumeToken as { _data?: unknown })._data);
      tokens.set(token, (tokens.get(token) ?? 0) + 1);
      const seenIn = directories.get(token);
      if (seenIn) seenIn.push(path.slice(0, slash));
      else directories.set(token, [path.slice(0, slash)]);
      partitions.set(meta.partition, (partitions.get(meta.partition) ?? 0) + 1);
      if (meta.partition !== filePartition)
        problems.push(
          `${path}:${index + 1}: partition ${meta.partition} in a file of partition ${filePartition}`,
        );
      if (meta.key <= previous)
        problems.push(`${path}:${index + 1}: key ${meta.key} does not follow ${previous}`);
      const ns = decoded.ns as { db?: string; coll?: string } | undefined;
      if (ns?.db && ns.coll) {
        const dir = renderPath(pathTemplate, {
          db: ns.db,
          coll: ns.coll,
          eventTime: eventTimeOfKey(meta.key),
        });
        if (path.slice(0, slash) !== dir) problems.push(`${path}:${index + 1}: belongs in ${dir}`);
      }
      if (count === 0) first = meta.key;
      previous = meta.key;
      count += 1;
    }
    if (count > 0 && first !== name[2])
      problems.push(`${path}: named after ${name[2]} but starts at ${first}`);
    total += count;
    files.push({
      path,
      partition: filePartition,
      lines: count,
      bytes: bytes.byteLength,
      firstKey: first,
      lastKey: previous,
    });
  }
  problems.push(...overlappingFiles(files));
  return { files, lines: total, tokens, directories, partitions, problems };
}

/**
 * Files of one partition in one directory, in name (first key) order, must
 * follow each other: each starts after the previous one's last key. An
 * overlap means lines of the partition left change order across files.
 */
function overlappingFiles(files: readonly FileInventory[]): string[] {
  const problems: string[] = [];
  const last = new Map<string, FileInventory>();
  for (const file of files) {
    if (file.lines === 0) continue;
    const group = `${file.path.slice(0, file.path.lastIndexOf('/'))}#${file.partition}`;
    const previous = last.get(group);
    if (previous && file.firstKey <= previous.lastKey)
      problems.push(
        `${file.path}: starts at ${file.firstKey}, before ${previous.path} ends (${previous.lastKey})`,
      );
    last.set(group, file);
  }
  return problems;
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
