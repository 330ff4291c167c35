/** What a data file's name says about it. */
export interface DataFileName {
  readonly partition: number;
  /** The ordering key of the file's first line. */
  readonly firstKey: string;
  /**
   * A replay of requeued dead letters (`part-<pppp>-replay-<firstKey>.jsonl`):
   * written after the partition moved on, so its keys lie behind the
   * partition's regular files and it is not part of their sequence.
   */
  readonly replay: boolean;
}

const DATA_FILE = /^part-(\d{4})-(replay-)?(\d{10}-\d{10}-\d{10})\.jsonl$/;

/**
 * Reads a data file's name (`part-<pppp>-<firstKey>.jsonl` or
 * `part-<pppp>-replay-<firstKey>.jsonl`); `undefined` for any other name.
 */
export function parseDataFileName(name: string): DataFileName | undefined {
  const match = DATA_FILE.exec(name);
  if (!match) return undefined;
  return { partition: Number(match[1]), firstKey: match[3] ?? '', replay: match[2] !== undefined };
}
