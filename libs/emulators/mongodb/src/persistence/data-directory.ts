import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EJSON, type Binary, type Document, type Timestamp } from 'bson';
import type { OplogEntry } from '../oplog/oplog.ts';
import { idKey } from '../storage/bson-values.ts';
import { promoteNumbers, withNumericTypes } from '../storage/numeric-types.ts';
import { CollectionData, type CollectionOptions } from '../storage/collection-data.ts';
import type { ReplicaNode } from '../server/replica-node.ts';

/** Saves follow changes by this much, so a burst of writes costs one save. */
const SAVE_DELAY_MS = 200;
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
}

/**
 * Optional persistence: the whole state (collections and oplog) as canonical
 * Extended JSON, so BSON types survive a restart. Written to a temporary file
 * and renamed into place, so a crash never leaves a half-written state. Changes
 * since the last save (200 ms, longer for big states) can be lost on a hard kill;
 * `stop()` always saves.
 */
export class DataDirectory {
  readonly #dir: string;
  readonly #node: ReplicaNode;
  #timer: NodeJS.Timeout | undefined;
  #saving: Promise<void> = Promise.resolve();

  constructor(dir: string, node: ReplicaNode) {
    this.#dir = dir;
    this.#node = node;
    node.onChange = () => this.#schedule();
  }

  /** Loads a previous state if the directory has one. */
  async load(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    let text: string;
    try {
      text = await readFile(join(this.#dir, FILE_NAME), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // a fresh directory
      throw error;
    }
    // Canonical parsing yields BSON number wrappers; promote them as the wire decoder does.
    const state = EJSON.parse(text, { relaxed: false }) as SavedState;
    promoteNumbers(state as unknown as Document);
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
    const last = this.#node.oplog.last;
    if (last) this.#node.clock.restore(last.ts);
  }

  #schedule(): void {
    if (this.#timer) return;
    // A big state takes a while to write; never spend more than about a third of the time saving.
    const delay = Math.max(SAVE_DELAY_MS, 2 * this.#lastSaveMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#save().catch((error: unknown) => {
        // The next change schedules another save; a failed one must not crash the emulator.
        console.error('[emulator-mongodb] saving the data directory failed:', error);
      });
    }, delay);
    this.#timer.unref();
  }

  #lastSaveMs = 0;

  #save(): Promise<void> {
    const run = async () => {
      const started = performance.now();
      await this.#write();
      this.#lastSaveMs = performance.now() - started;
    };
    // Saves run one after another; a failed save (already reported) does not stop the next one.
    this.#saving = this.#saving.then(run, run);
    return this.#saving;
  }

  async #write(): Promise<void> {
    const databases: SavedState['databases'] = {};
    for (const [db, collections] of this.#node.catalog.databases) {
      databases[db] = {};
      for (const [coll, data] of collections) {
        databases[db][coll] = {
          uuid: data.uuid,
          options: data.options,
          indexes: data.indexes,
          docs: data.all().map((doc) => withNumericTypes(doc)),
        };
      }
    }
    const lostUpTo = this.#node.oplog.lostUpTo;
    const state: SavedState = {
      version: 1,
      databases,
      oplog: this.#node.oplog.entries().map(typedEntry),
      ...(lostUpTo ? { lostUpTo } : {}),
    };
    const target = join(this.#dir, FILE_NAME);
    const temporary = `${target}.tmp`;
    await writeFile(temporary, EJSON.stringify(state as unknown as Document, { relaxed: false }));
    await rename(temporary, target);
  }

  /** Cancels the pending save and writes the final state. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#save();
  }
}

/** An oplog entry with its documents' numeric types restored for saving. */
function typedEntry(entry: OplogEntry): OplogEntry {
  return {
    ...entry,
    ...(entry.postImage ? { postImage: withNumericTypes(entry.postImage) } : {}),
    ...(entry.preImage ? { preImage: withNumericTypes(entry.preImage) } : {}),
    ...(entry.documentKey ? { documentKey: withNumericTypes(entry.documentKey) } : {}),
    ...(entry.updateDescription
      ? { updateDescription: withNumericTypes(entry.updateDescription) }
      : {}),
  };
}
