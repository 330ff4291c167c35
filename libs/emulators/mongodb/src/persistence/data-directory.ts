import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { EJSON, type Binary, type Document, type Timestamp } from 'bson';
import type { OplogEntry } from '../oplog/oplog.ts';
import { idKey } from '../storage/bson-values.ts';
import { promoteNumbers, withNumericTypes } from '../storage/numeric-types.ts';
import { CollectionData, type CollectionOptions } from '../storage/collection-data.ts';
import type { ReplicaNode } from '../server/replica-node.ts';
import {
  journalFileName,
  journalGenerations,
  readJournalFile,
  removeJournalsBefore,
  syncPath,
} from './journal-file.ts';
import { applyToCatalog, decodeChange, encodeChange, typedEntry } from './journal-records.ts';
import { JournalWriter } from './journal-writer.ts';

/** Checkpoints follow changes by at least this much unless told otherwise. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 10_000;
const FILE_NAME = 'emulator-state.json';

interface SavedCollection {
  uuid: Binary;
  options: CollectionOptions;
  indexes: Document[];
  docs: Document[];
}

interface SavedState {
  version: 1;
  databases: Record<string, Record<string, SavedCollection>>;
  oplog: OplogEntry[];
  lostUpTo?: Timestamp;
  /** The first journal generation this checkpoint does not contain (absent before the journal). */
  journalGeneration?: number;
}

/**
 * Optional persistence, durable as a server's: every change is journalled
 * (journal-writer.ts) and no reply goes out before the changes it follows
 * are on disk, so whatever a client was told survives a hard kill. Now and
 * then the whole state (collections and oplog, as canonical Extended JSON so
 * BSON types survive) is written as a checkpoint — to a temporary file,
 * synced and renamed into place — after which the journal before it is
 * dropped. Starting loads the checkpoint and replays the journal after it.
 */
export class DataDirectory {
  readonly #dir: string;
  readonly #node: ReplicaNode;
  readonly #intervalMs: number;
  #journal: JournalWriter | undefined;
  #timer: NodeJS.Timeout | undefined;
  #saving: Promise<void> = Promise.resolve();
  #lastSaveMs = 0;

  constructor(dir: string, node: ReplicaNode, checkpointIntervalMs: number) {
    this.#dir = dir;
    this.#node = node;
    this.#intervalMs = checkpointIntervalMs;
  }

  /** Loads the checkpoint and replays the journal, then journals every change from here on. */
  async open(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const state = await this.#readCheckpoint();
    const first = state?.journalGeneration ?? 0;
    if (state) this.#restore(state);
    let next = first;
    for (const generation of await journalGenerations(this.#dir)) {
      if (generation < first) continue; // held by the checkpoint; removed at the next one
      await this.#replay(generation);
      next = generation + 1;
    }
    const last = this.#node.oplog.last?.ts ?? this.#node.oplog.lostUpTo;
    if (last) this.#node.clock.restore(last);
    // A new file: never append after a record a crash may have torn.
    const journal = new JournalWriter(this.#dir, next);
    this.#journal = journal;
    this.#node.onChange = (change) => {
      journal.append(encodeChange(change));
      this.#schedule();
    };
    this.#node.whenDurable = () => journal.whenDurable();
  }

  async #readCheckpoint(): Promise<SavedState | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.#dir, FILE_NAME), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // a fresh directory
      throw error;
    }
    // Canonical parsing yields BSON number wrappers; promote them as the wire decoder does.
    const state = EJSON.parse(text, { relaxed: false }) as SavedState;
    promoteNumbers(state as unknown as Document);
    return state;
  }

  #restore(state: SavedState): void {
    for (const [db, collections] of Object.entries(state.databases)) {
      for (const [coll, saved] of Object.entries(collections)) {
        const docs = new Map(saved.docs.map((doc) => [idKey(doc._id), doc] as const));
        this.#node.catalog.put(
          db,
          coll,
          new CollectionData({
            uuid: saved.uuid,
            docs,
            options: saved.options,
            indexes: saved.indexes,
          }),
        );
      }
    }
    this.#node.oplog.load(state.oplog, state.lostUpTo);
  }

  async #replay(generation: number): Promise<void> {
    const path = join(this.#dir, journalFileName(generation));
    const { records, discardedBytes } = await readJournalFile(path);
    if (discardedBytes > 0)
      console.error(
        `[emulator-mongodb] ${path}: discarded ${discardedBytes} bytes after the last intact record (a write torn by a crash; never acknowledged)`,
      );
    for (const record of records) {
      const change = decodeChange(record);
      applyToCatalog(this.#node.catalog, change);
      if (change.kind === 'oplog') this.#node.oplog.replay(change.entries);
    }
  }

  #schedule(): void {
    if (this.#timer) return;
    // A big state takes a while to write; never spend more than about a third of the time saving.
    const delay = Math.max(this.#intervalMs, 2 * this.#lastSaveMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#save().catch((error: unknown) => {
        // The journal still holds every change; the next change schedules another checkpoint.
        console.error('[emulator-mongodb] writing a checkpoint failed:', error);
      });
    }, delay);
    this.#timer.unref();
  }

  #save(): Promise<void> {
    const run = async () => {
      const started = performance.now();
      await this.#checkpoint();
      this.#lastSaveMs = performance.now() - started;
    };
    // Checkpoints run one after another; a failed one (already reported) does not stop the next one.
    this.#saving = this.#saving.then(run, run);
    return this.#saving;
  }

  async #checkpoint(): Promise<void> {
    const journal = this.#journal;
    if (!journal) return;
    // Rotation and snapshot in one synchronous step: the checkpoint holds
    // exactly the changes journalled before the new generation.
    const generation = journal.rotate();
    const text = EJSON.stringify(this.#snapshot(generation) as unknown as Document, {
      relaxed: false,
    });
    const target = join(this.#dir, FILE_NAME);
    const temporary = `${target}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(text);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
    await syncPath(this.#dir);
    await removeJournalsBefore(this.#dir, generation);
  }

  #snapshot(journalGeneration: number): SavedState {
    const databases: SavedState['databases'] = {};
    for (const [db, collections] of this.#node.catalog.databases) {
      databases[db] = {};
      for (const [coll, data] of collections) {
        databases[db][coll] = {
          uuid: data.uuid,
          options: data.options,
          indexes: [...data.indexes],
          docs: data.all().map((doc) => withNumericTypes(doc)),
        };
      }
    }
    const lostUpTo = this.#node.oplog.lostUpTo;
    return {
      version: 1,
      databases,
      oplog: this.#node.oplog.entries().map(typedEntry),
      ...(lostUpTo ? { lostUpTo } : {}),
      journalGeneration,
    };
  }

  /** Cancels the pending checkpoint, writes the final one and closes the journal. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#save();
    await this.#journal?.close();
  }
}
