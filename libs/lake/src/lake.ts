/**
 * The lake port: an append-only file store with committed lengths and
 * versions, which is what ADLS Gen2's append/flush gives and what the writer
 * needs to be exact. Paths are relative, `/`-separated, never `..`.
 */

/** A file's committed state. */
export interface LakeFileState {
  /** Committed bytes: what readers see. Data not yet committed never counts. */
  readonly length: number;
  /** Changes on every commit; conditions compare it. */
  readonly version: string;
}

/** One file found by {@link Lake.list}. */
export interface LakeEntry {
  readonly path: string;
  readonly length: number;
}

/** Conditions on a whole-document write. */
export type WriteCondition =
  /** Only if the file does not exist yet. */
  | { readonly ifAbsent: true }
  /** Only if the file's version is still this one. */
  | { readonly ifVersion: string };

/** Options of {@link Lake.create}. */
export interface CreateOptions {
  /** Create the file holding this write lease (see {@link Lake.acquireLease}). */
  readonly leaseId?: string;
}

/** Options of {@link Lake.append}. */
export interface AppendOptions {
  /** The version the caller last saw; the append fails if the file moved since. */
  readonly ifVersion: string;
  /** The write lease the caller holds, when the file is leased. */
  readonly leaseId?: string;
  /** Mark the file finished (ADLS's closing flush). */
  readonly close?: boolean;
}

/**
 * An append-only file store. A file may carry one write lease: while it
 * does, only appends naming that lease change the file, whoever else
 * writes and whatever their clocks say — that is how a writer that lost its
 * partition is kept from touching the partition's files. Leases never
 * expire by themselves; they are released or taken over.
 */
export interface Lake {
  /** The committed state of a file, or `undefined` when there is none. */
  stat(path: string): Promise<LakeFileState | undefined>;

  /**
   * Creates an empty file (missing directories too), holding the write
   * lease `options.leaseId` from the start when one is given.
   *
   * @throws LakeError `ALREADY_EXISTS` when the file is there.
   */
  create(path: string, options?: CreateOptions): Promise<LakeFileState>;

  /**
   * Appends `data` at `offset` and commits it in one step: afterwards readers
   * see all of it or, on failure, none of it. `offset` must be the committed
   * length and `ifVersion` the version the caller last saw, so a writer that
   * lost ownership cannot interleave with the new owner.
   * With `close`, the file is marked finished (ADLS's closing flush).
   *
   * @throws LakeError `CONFLICT` when the length or version moved, or the
   *   file's write lease is not `options.leaseId` (another writer holds it,
   *   or the caller names a lease the file no longer has).
   */
  append(
    path: string,
    offset: number,
    data: Uint8Array,
    options: AppendOptions,
  ): Promise<LakeFileState>;

  /**
   * Takes the file's write lease under `leaseId` (a GUID); taking it again
   * under the same id succeeds. With `takeOver`, a lease someone else holds
   * is ended first. Only a writer that has just proven it owns the file's
   * partition (its checkpoint compare-and-set passed after it took the
   * lease, or before, on a takeover) may rely on the lease: take it, then
   * prove ownership, then write.
   *
   * @throws LakeError `CONFLICT` when another holds it and `takeOver` is
   *   not set; `NOT_FOUND` when the file does not exist.
   */
  acquireLease(
    path: string,
    leaseId: string,
    options?: { readonly takeOver?: boolean },
  ): Promise<void>;

  /** Gives up the write lease if `leaseId` still holds it; otherwise does nothing. */
  releaseLease(path: string, leaseId: string): Promise<void>;

  /**
   * Removes a file that holds no write lease — with `ifVersion`, only while
   * it is still at that version; nothing happens when there is no such file.
   *
   * @throws LakeError `CONFLICT` when the file is leased or at another version.
   */
  delete(path: string, options?: { readonly ifVersion?: string }): Promise<void>;

  /** Committed bytes from `offset` (default 0) to the end or `offset + length`. */
  read(path: string, offset?: number, length?: number): Promise<Uint8Array>;

  /**
   * The whole committed content of a small file (a checkpoint) together with
   * the version of exactly those bytes, read in one step: a compare-and-set
   * with that version passes only if nobody replaced the file since. A stat
   * and a separate read could pair old bytes with a newer version.
   *
   * @returns `undefined` when there is no such file.
   */
  readDocument(path: string): Promise<{ data: Uint8Array; state: LakeFileState } | undefined>;

  /**
   * Replaces a small file (a checkpoint) atomically, under a condition:
   * readers see the old content or the new, never a mix or an empty file.
   *
   * @throws LakeError `CONFLICT` when the condition does not hold.
   */
  writeDocument(path: string, data: Uint8Array, condition: WriteCondition): Promise<LakeFileState>;

  /** Every file below `prefix` (recursively), in no particular order. */
  list(prefix: string): AsyncIterable<LakeEntry>;

  /** Releases connections; idempotent. */
  close(): Promise<void>;
}
