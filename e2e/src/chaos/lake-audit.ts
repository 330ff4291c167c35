import { decodeLine, partitionOf } from '@tributary/core';
import type { OplogRecord } from '@tributary/emulator-mongodb';
import { STATE_PREFIX, type Lake, compareWithSource, inventoryLake } from '@tributary/lake';
import { misplacedEvents } from '../misplaced-events.ts';
import { PATH_TEMPLATE } from '../pipeline.ts';

const DATA_FILE = /^part-(\d{4})-\d{10}-\d{10}-\d{10}\.jsonl$/;

/** The lake held against the source's own record of every change (the emulator's oplog). */
export interface LakeAudit {
  /** Source events. */
  readonly produced: number;
  /** Data lines in the lake. */
  readonly lines: number;
  /** Source events (resume tokens) without a line. */
  readonly missing: readonly string[];
  /** Missing events per partition, from the oplog record's namespace. */
  readonly missingByPartition: ReadonlyMap<number, number>;
  /** Source events with more than one line. */
  readonly duplicated: readonly string[];
  /** Lines whose event the source does not know. */
  readonly unexpected: readonly string[];
  /** Lines that come after a later event of their partition in their directory. */
  readonly outOfOrder: readonly string[];
  /** Events whose line is not where the oplog's namespace and clusterTime put it. */
  readonly misplaced: readonly string[];
  /** Everything `inventoryLake` found wrong with files and lines (names, encoding, order inside files). */
  readonly problems: readonly string[];
}

/**
 * What the data files add up to (count and committed bytes): cheap to read
 * from a listing, and it changes whenever anything is committed, so polling
 * it tells when the lake has gone quiet without reading every file.
 */
export async function lakeSignature(lake: Lake): Promise<string> {
  let files = 0;
  let bytes = 0;
  for await (const entry of lake.list('')) {
    if (entry.path.startsWith(STATE_PREFIX)) continue;
    files += 1;
    bytes += entry.length;
  }
  return `${files} files, ${bytes} bytes`;
}

/**
 * Reads the whole lake back and compares it with the oplog: missing,
 * duplicated and unexpected events by resume token; misplaced lines by the
 * oplog's own namespace and time; and order within each partition.
 */
export async function auditLake(
  lake: Lake,
  source: readonly OplogRecord[],
  partitionCount: number,
): Promise<LakeAudit> {
  const inventory = await inventoryLake(lake, PATH_TEMPLATE);
  const comparison = compareWithSource(
    inventory,
    source.map((record) => record.resumeToken._data),
  );
  const byToken = new Map(
    source.map((record, index) => [record.resumeToken._data, { record, index }]),
  );
  const missingByPartition = new Map<number, number>();
  for (const token of comparison.missing) {
    const record = byToken.get(token)?.record;
    if (!record) continue;
    const partition = partitionOf(record, partitionCount, 'namespace');
    missingByPartition.set(partition, (missingByPartition.get(partition) ?? 0) + 1);
  }
  return {
    produced: comparison.produced,
    lines: inventory.lines,
    missing: comparison.missing,
    missingByPartition,
    duplicated: comparison.duplicated,
    unexpected: comparison.unexpected,
    outOfOrder: await outOfOrderLines(
      lake,
      new Map([...byToken].map(([token, { index }]) => [token, index])),
    ),
    misplaced: misplacedEvents(inventory, source, PATH_TEMPLATE),
    problems: inventory.problems,
  };
}

/**
 * Lines of one partition in one directory, read across that partition's
 * files in name (first-key) order, must follow change-stream order. A line
 * is out of order when its ordering key is not above every key before it,
 * or when the oplog has its event before one already read (the oplog's
 * position is the independent check of the keys capture assigned). A line
 * whose event was already read in the same sequence is a duplicate, counted
 * as such, not here.
 */
async function outOfOrderLines(
  lake: Lake,
  sourcePosition: ReadonlyMap<string, number>,
): Promise<string[]> {
  const sequences = new Map<string, string[]>();
  for await (const entry of lake.list('')) {
    if (entry.path.startsWith(STATE_PREFIX)) continue;
    const slash = entry.path.lastIndexOf('/');
    const name = DATA_FILE.exec(entry.path.slice(slash + 1));
    if (!name) continue; // not a data file: inventoryLake reports it
    const group = `${entry.path.slice(0, slash)}#${name[1]}`;
    const files = sequences.get(group) ?? [];
    files.push(entry.path);
    sequences.set(group, files);
  }
  const outOfOrder: string[] = [];
  for (const files of sequences.values()) {
    let maxKey = '';
    let maxPosition = -1;
    const seen = new Set<string>();
    for (const path of files.sort()) {
      const text = Buffer.from(await lake.read(path)).toString('utf8');
      for (const [index, line] of text.split('\n').entries()) {
        if (line.length === 0) continue;
        const meta = decodeLine(line)._tributary;
        const token = String((meta.resumeToken as { _data?: unknown })._data);
        if (seen.has(token)) continue;
        seen.add(token);
        const position = sourcePosition.get(token);
        if (meta.key <= maxKey || (position !== undefined && position < maxPosition))
          outOfOrder.push(`${path}:${index + 1}: key ${meta.key} after ${maxKey}`);
        if (meta.key > maxKey) maxKey = meta.key;
        if (position !== undefined && position > maxPosition) maxPosition = position;
      }
    }
  }
  return outOfOrder;
}
