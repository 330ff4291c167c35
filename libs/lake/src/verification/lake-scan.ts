import {
  type DecodedLine,
  decodeLine,
  eventTimeOfKey,
  formatOrderingKey,
  isOrderingKey,
  renderPath,
} from '@tributary/core';
import type { Lake } from '../lake.ts';
import { committedLines, DEFAULT_CHUNK_BYTES } from './committed-lines.ts';
import { parseDataFileName } from './data-file-name.ts';
import { KeyLedger } from './key-ledger.ts';
import { UNKNOWN_NAMESPACE, namespaceName, namespaceOfDirectory } from './namespace-names.ts';

/** Where Tributary keeps its own state in the lake; never data. */
export const STATE_PREFIX = '_tributary/';

/**
 * The checks a scan makes, each a rule a reader of the lake relies on:
 * - `unparseable`: a line is not Extended JSON with a valid `_tributary` object;
 * - `duplicate`: an ordering key appears on more than one line (regular and replay files alike);
 * - `order`: within a partition's files of one directory, read in name
 *   (first-key) order, a key is not greater than the one before it
 *   (replay files are each a sequence of their own);
 * - `misplaced`: a line sits in a directory its namespace and event time do
 *   not give, or in a file of another partition;
 * - `file`: a name that is not a data file's, a file not named after its
 *   first key, a last line without its newline in a file no writer has open.
 */
export type LakeCheck = 'unparseable' | 'duplicate' | 'order' | 'misplaced' | 'file';

export const LAKE_CHECKS: readonly LakeCheck[] = [
  'unparseable',
  'duplicate',
  'order',
  'misplaced',
  'file',
];

/** One rule broken, where. */
export interface LakeFinding {
  readonly check: LakeCheck;
  /** The namespace concerned ({@link UNKNOWN_NAMESPACE} when nothing tells). */
  readonly namespace: string;
  readonly path: string;
  /** 1-based line number, for findings about one line. */
  readonly line?: number;
  /** The finding in words, starting with `path` or `path:line`. */
  readonly message: string;
}

/** One data file as read back. */
export interface ScannedFile {
  readonly path: string;
  readonly partition: number;
  readonly replay: boolean;
  /** Lines read (in flight ones not included). */
  readonly lines: number;
  readonly bytes: number;
  readonly firstKey: string;
  readonly lastKey: string;
}

/** A line handed to {@link LakeScanOptions.onLine}. */
export interface ScannedLine {
  readonly path: string;
  readonly line: number;
  /** The line's entry in {@link LakeScan.ledger}. */
  readonly entry: number;
  readonly namespace: string;
  readonly event: DecodedLine;
  /** The line is in a replay file. */
  readonly replay: boolean;
}

/** Counts of one namespace. */
export interface NamespaceTally extends Record<LakeCheck, number> {
  /** Lines read and decoded. */
  lines: number;
  /** Last lines still being written (no newline yet) in files a checkpoint lists as open. */
  inFlight: number;
}

export interface LakeScanProgress {
  readonly files: number;
  readonly totalFiles: number;
  readonly lines: number;
  readonly bytes: number;
}

export interface LakeScanOptions {
  /** The writers' path template (`TRIBUTARY_PATH_TEMPLATE`). */
  readonly pathTemplate: string;
  /** Read only below this directory (default: the whole lake). */
  readonly prefix?: string;
  /**
   * Files a partition checkpoint lists as open: a writer may be appending,
   * so a last line without its newline is in flight, not damage.
   */
  readonly openFiles?: ReadonlySet<string>;
  /** Lines (and findings) of other namespaces are passed over. */
  readonly includeNamespace?: (namespace: string) => boolean;
  /** Called for every decoded line of an included namespace, in read order. */
  readonly onLine?: (line: ScannedLine) => void;
  /** Called after each file and every few thousand lines. */
  readonly onProgress?: (progress: LakeScanProgress) => void;
  /** Findings kept per check (counts are always complete); default all. */
  readonly maxFindings?: number;
  readonly chunkBytes?: number;
}

/** What a scan found. */
export interface LakeScan {
  readonly files: readonly ScannedFile[];
  /** Lines read and decoded (of included namespaces). */
  readonly lines: number;
  readonly inFlight: number;
  /** Every line's key, place and token fingerprint; files numbered as in {@link files}. */
  readonly ledger: KeyLedger;
  /** Namespace names, numbered as in the ledger. */
  readonly namespaces: readonly string[];
  /** Findings in read order (duplicates and order last), up to `maxFindings` per check. */
  readonly findings: readonly LakeFinding[];
  /** Counts per namespace. */
  readonly tallies: ReadonlyMap<string, NamespaceTally>;
}

const PROGRESS_EVERY_LINES = 10_000;

/**
 * Reads every committed line of the lake's data files (never `_tributary/`)
 * and checks what a reader relies on ({@link LakeCheck}): one pass, each
 * file streamed in ranges, per line a few numbers kept in a
 * {@link KeyLedger}, so memory grows by bytes per line, not by the lake.
 */
export async function scanLake(lake: Lake, options: LakeScanOptions): Promise<LakeScan> {
  const entries: { path: string; length: number }[] = [];
  for await (const entry of lake.list(options.prefix ?? '')) {
    if (!entry.path.startsWith(STATE_PREFIX)) entries.push(entry);
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const scan = new Scan(options, entries.length);
  for (const entry of entries) await scan.readFile(lake, entry.path, entry.length);
  return scan.finish();
}

/** The state of one scan. */
class Scan {
  readonly #options: LakeScanOptions;
  readonly #files: ScannedFile[] = [];
  readonly #ledger = new KeyLedger();
  readonly #namespaces: string[] = [];
  readonly #namespaceIndex = new Map<string, number>();
  readonly #findings: LakeFinding[] = [];
  readonly #kept = new Map<LakeCheck, number>();
  readonly #tallies = new Map<string, NamespaceTally>();
  /**
   * The last line of each sequence: a partition's regular files in one
   * directory (one file open at a time there, each starting after the
   * last), or one replay file.
   */
  readonly #sequenceEnds = new Map<string, { entry: number; key: string }>();
  /** Order violations as pairs: the entry, and the one before it in its sequence. */
  readonly #violations: number[] = [];
  readonly #totalFiles: number;
  #filesRead = 0;
  #lines = 0;
  #bytes = 0;
  #inFlight = 0;

  constructor(options: LakeScanOptions, totalFiles: number) {
    this.#options = options;
    this.#totalFiles = totalFiles;
  }

  async readFile(lake: Lake, path: string, length: number): Promise<void> {
    await this.#readFile(lake, path, length);
    this.#filesRead += 1;
    this.#progress();
  }

  async #readFile(lake: Lake, path: string, length: number): Promise<void> {
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '' : path.slice(0, slash);
    const dirNamespace = namespaceOfDirectory(this.#options.pathTemplate, dir) ?? UNKNOWN_NAMESPACE;
    const name = parseDataFileName(path.slice(slash + 1));
    if (!name) {
      this.#find(
        'file',
        dirNamespace,
        path,
        undefined,
        'not a Tributary file name (part-<pppp>-<firstKey>.jsonl)',
      );
      return;
    }
    const fileIndex = this.#files.length;
    const sequence = name.replay ? path : `${dir}#${name.partition}`;
    let count = 0;
    let first = '';
    let last = '';
    // Findings about the file are the namespace's its first line names (else its directory's).
    let fileNamespace = dirNamespace;
    let namespaceKnown = false;
    const chunkBytes = this.#options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    for await (const line of committedLines(lake, path, length, chunkBytes)) {
      this.#bytes += Buffer.byteLength(line.text) + (line.torn ? 0 : 1);
      if (line.torn) {
        if (!this.#options.openFiles?.has(path))
          this.#find('file', fileNamespace, path, undefined, 'last line is not terminated');
        else if (this.#included(fileNamespace)) {
          this.#inFlight += 1;
          this.#tally(fileNamespace).inFlight += 1;
        }
        continue;
      }
      if (line.text.length === 0) continue;
      const decoded = decodeChecked(line.text);
      if (typeof decoded === 'string') {
        this.#find(
          'unparseable',
          fileNamespace,
          path,
          line.number,
          `not a Tributary line (${decoded})`,
        );
        continue;
      }
      const namespace = namespaceName(decoded.ns);
      if (!namespaceKnown) {
        fileNamespace = namespace;
        namespaceKnown = true;
      }
      if (!this.#included(namespace)) continue;
      const meta = decoded._tributary;
      const entry = this.#ledger.add(
        meta.key,
        fileIndex,
        line.number,
        String(meta.resumeToken._data),
        this.#indexOf(namespace),
      );
      this.#lines += 1;
      this.#tally(namespace).lines += 1;
      if (meta.partition !== name.partition)
        this.#find(
          'misplaced',
          namespace,
          path,
          line.number,
          `partition ${meta.partition} in a file of partition ${name.partition}`,
        );
      const ns = decoded.ns as { db?: string; coll?: string } | undefined;
      const expected = renderPath(this.#options.pathTemplate, {
        db: ns?.db,
        coll: ns?.coll,
        eventTime: eventTimeOfKey(meta.key),
      });
      if (expected !== dir)
        this.#find('misplaced', namespace, path, line.number, `belongs in ${expected}`);
      const previous = this.#sequenceEnds.get(sequence);
      if (previous && meta.key <= previous.key) this.#violations.push(entry, previous.entry);
      this.#sequenceEnds.set(sequence, { entry, key: meta.key });
      if (count === 0) first = meta.key;
      last = meta.key;
      count += 1;
      this.#options.onLine?.({
        path,
        line: line.number,
        entry,
        namespace,
        event: decoded,
        replay: name.replay,
      });
      if (this.#lines % PROGRESS_EVERY_LINES === 0) this.#progress();
    }
    if (count > 0 && first !== name.firstKey)
      this.#find(
        'file',
        fileNamespace,
        path,
        undefined,
        `named after ${name.firstKey} but starts at ${first}`,
      );
    this.#files.push({
      path,
      partition: name.partition,
      replay: name.replay,
      lines: count,
      bytes: length,
      firstKey: first,
      lastKey: last,
    });
  }

  #progress(): void {
    this.#options.onProgress?.({
      files: this.#filesRead,
      totalFiles: this.#totalFiles,
      lines: this.#lines,
      bytes: this.#bytes,
    });
  }

  /**
   * Duplicates from the ledger, then order violations — except at a line
   * that repeats a key read before: that line is a duplicate, and counted
   * as one only.
   */
  finish(): LakeScan {
    const repeats = new Set<number>();
    for (const group of this.#ledger.duplicateGroups()) {
      const [original, ...copies] = group as [number, ...number[]];
      const at = this.#where(original);
      for (const copy of copies) {
        repeats.add(copy);
        const entry = this.#ledger.entry(copy);
        this.#find(
          'duplicate',
          this.#namespaces[entry.namespace] ?? UNKNOWN_NAMESPACE,
          this.#files[entry.file]?.path ?? '',
          entry.line,
          `key ${formatOrderingKey(entry)} also at ${at}`,
        );
      }
    }
    for (let k = 0; k < this.#violations.length; k += 2) {
      const entryIndex = this.#violations[k] ?? 0;
      if (repeats.has(entryIndex)) continue;
      const entry = this.#ledger.entry(entryIndex);
      const before = this.#ledger.entry(this.#violations[k + 1] ?? 0);
      const file = this.#files[entry.file] as ScannedFile;
      const namespace = this.#namespaces[entry.namespace] ?? UNKNOWN_NAMESPACE;
      if (before.file === entry.file)
        this.#find(
          'order',
          namespace,
          file.path,
          entry.line,
          `key ${formatOrderingKey(entry)} does not follow ${formatOrderingKey(before)}`,
        );
      else
        this.#find(
          'order',
          namespace,
          file.path,
          entry.line,
          `starts at ${formatOrderingKey(entry)}, before ${this.#files[before.file]?.path} ends (${formatOrderingKey(before)})`,
          true,
        );
    }
    return {
      files: this.#files,
      lines: this.#lines,
      inFlight: this.#inFlight,
      ledger: this.#ledger,
      namespaces: this.#namespaces,
      findings: this.#findings,
      tallies: this.#tallies,
    };
  }

  #where(index: number): string {
    const entry = this.#ledger.entry(index);
    return `${this.#files[entry.file]?.path}:${entry.line}`;
  }

  #included(namespace: string): boolean {
    const include = this.#options.includeNamespace;
    if (!include) return true;
    return namespace !== UNKNOWN_NAMESPACE && include(namespace);
  }

  #indexOf(namespace: string): number {
    let index = this.#namespaceIndex.get(namespace);
    if (index === undefined) {
      index = this.#namespaces.length;
      this.#namespaces.push(namespace);
      this.#namespaceIndex.set(namespace, index);
    }
    return index;
  }

  #tally(namespace: string): NamespaceTally {
    let tally = this.#tallies.get(namespace);
    if (!tally) {
      tally = {
        lines: 0,
        inFlight: 0,
        unparseable: 0,
        duplicate: 0,
        order: 0,
        misplaced: 0,
        file: 0,
      };
      this.#tallies.set(namespace, tally);
    }
    return tally;
  }

  /**
   * Records a finding. `fileLevel` findings are about the file as a whole
   * (named `path:` without a line) although they point at a line.
   */
  #find(
    check: LakeCheck,
    namespace: string,
    path: string,
    line: number | undefined,
    text: string,
    fileLevel = false,
  ): void {
    if (!this.#included(namespace)) return;
    this.#tally(namespace)[check] += 1;
    const kept = this.#kept.get(check) ?? 0;
    if (kept >= (this.#options.maxFindings ?? Infinity)) return;
    this.#kept.set(check, kept + 1);
    const where = line === undefined || fileLevel ? path : `${path}:${line}`;
    this.#findings.push({
      check,
      namespace,
      path,
      ...(line === undefined ? {} : { line }),
      message: `${where}: ${text}`,
    });
  }
}

/** A line decoded, or why it cannot be: not Extended JSON, or no usable `_tributary`. */
function decodeChecked(text: string): DecodedLine | string {
  let decoded: DecodedLine;
  try {
    decoded = decodeLine(text);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const meta = decoded._tributary as Partial<DecodedLine['_tributary']> | undefined;
  if (!meta || typeof meta !== 'object') return 'no _tributary object';
  if (!isOrderingKey(meta.key)) return `_tributary.key is not an ordering key: ${String(meta.key)}`;
  if (typeof meta.resumeToken?._data !== 'string') return '_tributary.resumeToken has no _data';
  if (!Number.isInteger(meta.partition) || (meta.partition ?? -1) < 0)
    return '_tributary.partition is not a partition number';
  return decoded;
}
