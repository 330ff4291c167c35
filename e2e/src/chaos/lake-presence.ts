import { STATE_PREFIX, type Lake } from '@tributary/lake';
import type { QueuedEvent } from './queued-batches.ts';

const DATA_FILE = /^part-(\d{4})-(\d{10}-\d{10}-\d{10})\.jsonl$/;

/**
 * Which of `events` (all of partition `p`) have a line in the lake. Reads
 * only the files an event can be in: in its directory, the partition's
 * files from the one named before its key on — a line goes to a file whose
 * first key is not above its own — so a check stays cheap however large
 * the lake has grown. A token is matched as text in the line, which is
 * exact: resume tokens are hex strings that appear in a line only as its
 * event's `_id` and `_tributary.resumeToken`.
 */
export async function presentInLake(
  lake: Lake,
  partition: number,
  events: readonly QueuedEvent[],
): Promise<Set<string>> {
  const filesByDir = new Map<string, Array<{ path: string; firstKey: string }>>();
  const wanted = new Set(events.map((e) => e.dir));
  for await (const entry of lake.list('')) {
    if (entry.path.startsWith(STATE_PREFIX)) continue;
    const slash = entry.path.lastIndexOf('/');
    const dir = entry.path.slice(0, slash);
    const name = DATA_FILE.exec(entry.path.slice(slash + 1));
    if (!name || Number(name[1]) !== partition || !wanted.has(dir)) continue;
    const files = filesByDir.get(dir) ?? [];
    files.push({ path: entry.path, firstKey: name[2] as string });
    filesByDir.set(dir, files);
  }
  const toRead = new Set<string>();
  for (const [dir, files] of filesByDir) {
    files.sort((a, b) => (a.firstKey < b.firstKey ? -1 : 1));
    const smallest = events
      .filter((e) => e.dir === dir)
      .reduce((min, e) => (e.key < min ? e.key : min), '\uffff');
    const from = Math.max(
      0,
      files.findLastIndex((f) => f.firstKey <= smallest),
    );
    for (const file of files.slice(from)) toRead.add(file.path);
  }
  const present = new Set<string>();
  for (const path of toRead) {
    const text = Buffer.from(await lake.read(path)).toString('utf8');
    for (const event of events) if (text.includes(`"${event.token}"`)) present.add(event.token);
  }
  return present;
}
