import { CommandError } from '../errors/command-error.ts';
import { CollectionData, type CollectionOptions } from './collection-data.ts';

/** Databases the server owns; change streams never report them at deployment scope. */
export const INTERNAL_DATABASES = new Set(['admin', 'config', 'local']);

/** The namespace rules of the real server, so bad names fail with InvalidNamespace (73). */
export function validateDbName(db: unknown): string {
  if (typeof db !== 'string' || db.length === 0 || /[/\\. "$\0]/.test(db) || db.length > 63) {
    throw new CommandError('InvalidNamespace', `Invalid database name: '${String(db)}'`);
  }
  return db;
}

/** Validates a collection name the way the server does. */
export function validateCollName(db: string, coll: unknown): string {
  if (typeof coll !== 'string') {
    throw new CommandError('InvalidNamespace', `collection name has invalid type ${typeof coll}`);
  }
  if (coll.length === 0 || coll.includes('$') || coll.includes('\0') || coll.startsWith('.')) {
    throw new CommandError('InvalidNamespace', `Invalid namespace specified '${db}.${coll}'`);
  }
  return coll;
}

/** All databases and collections of the emulated node. */
export class Catalog {
  readonly databases = new Map<string, Map<string, CollectionData>>();
  /**
   * Called once a collection was created, explicitly or by a first write
   * (the node logs its create entry, as the server logs one either way).
   */
  onCreate: (db: string, coll: string, collection: CollectionData) => void = () => undefined;
  /**
   * Called when a collection is created or its options or indexes change:
   * persistence journals the collection's whole metadata (drops and renames
   * are replayed from their oplog entries).
   */
  onCollectionChange: (db: string, coll: string, collection: CollectionData) => void = () =>
    undefined;

  #attach(db: string, coll: string, collection: CollectionData): void {
    collection.onMetadataChange = () => this.onCollectionChange(db, coll, collection);
  }

  /** The collection, or undefined if it does not exist. */
  get(db: string, coll: string): CollectionData | undefined {
    return this.databases.get(db)?.get(coll);
  }

  /** The collection, created (implicitly, like an insert does, or with `options`) when missing. */
  ensure(
    db: string,
    coll: string,
    options?: CollectionOptions,
  ): { collection: CollectionData; created: boolean } {
    let database = this.databases.get(db);
    if (!database) {
      database = new Map();
      this.databases.set(db, database);
    }
    const existing = database.get(coll);
    if (existing) return { collection: existing, created: false };
    const collection = new CollectionData(options ? { options } : {});
    database.set(coll, collection);
    this.#attach(db, coll, collection);
    this.onCollectionChange(db, coll, collection);
    this.onCreate(db, coll, collection);
    return { collection, created: true };
  }

  /** Puts a collection in place (rename, transaction commit, loading from disk). */
  put(db: string, coll: string, collection: CollectionData): void {
    let database = this.databases.get(db);
    if (!database) {
      database = new Map();
      this.databases.set(db, database);
    }
    database.set(coll, collection);
    this.#attach(db, coll, collection);
  }

  /** Removes a collection; drops the database entry when it becomes empty. */
  remove(db: string, coll: string): boolean {
    const database = this.databases.get(db);
    const collection = database?.get(coll);
    if (!database || !collection) return false;
    database.delete(coll);
    collection.onMetadataChange = undefined;
    if (database.size === 0) this.databases.delete(db);
    return true;
  }

  /** Names of the collections of `db`. */
  collectionNames(db: string): string[] {
    return [...(this.databases.get(db)?.keys() ?? [])];
  }
}
