import type { Lake } from '@tributary/lake';

/** Prints each directory of the lake with its file count, lines-ish size, and bytes. */
export async function printLakeTree(lake: Lake, say: (line: string) => void): Promise<void> {
  const dirs = new Map<string, { files: number; bytes: number }>();
  for await (const entry of lake.list('')) {
    const dir = entry.path.slice(0, entry.path.lastIndexOf('/') + 1);
    const stats = dirs.get(dir) ?? { files: 0, bytes: 0 };
    stats.files += 1;
    stats.bytes += entry.length;
    dirs.set(dir, stats);
  }
  for (const [dir, stats] of [...dirs].sort(([a], [b]) => a.localeCompare(b))) {
    const size =
      stats.bytes >= 1024 ? `${(stats.bytes / 1024).toFixed(1)} KiB` : `${stats.bytes} B`;
    say(
      `  ${dir.padEnd(60)} ${String(stats.files).padStart(3)} file${stats.files === 1 ? ' ' : 's'}  ${size.padStart(10)}`,
    );
  }
}
