import path from 'node:path';
import { StorageError, errors } from '../http/storage-error.ts';
import { nextEtag } from './clock.ts';
import { requireConditions, type ConditionHeaders } from './conditions.ts';
import { DataFiles } from './data-files.ts';
import { Journal, type CrashPoint } from './journal.ts';
import { LakeState } from './lake-state.ts';
import { applyLeaseAction, checkLeaseAccess, type LeaseRequest } from './leases.ts';
import { ancestorsOf, listingKey, parentOf, validateFilesystemName } from './names.ts';
import type { FilesystemEntry, Mutation, PathEntry, PathHttpHeaders } from './types.ts';

/** Compact the journal once it grows past this many bytes. */
const COMPACT_AFTER_BYTES = 64 * 1024 * 1024;

/** Options for {@link LakeStore.open}. */
export interface LakeStoreOptions {
  /** Directory holding everything the emulator stores. */
  dataDir: string;
  /** fsync the journal on every change (survives power loss, not only a process crash). */
  syncWrites?: boolean;
  /** Journal size that triggers compaction into a snapshot (default 64 MiB). */
  compactAfterBytes?: number;
  /** What to do when a write reaches an armed crash point (fault injection; see `Journal`). */
  onCrashPoint?: (point: CrashPoint) => void;
}

/** What a path create asks for. */
export interface CreatePathRequest {
  kind: 'file' | 'directory';
  metadata: Record<string, string>;
  headers: PathHttpHeaders;
  conditions: ConditionHeaders;
  leaseId: string | undefined;
  /** Acquire a lease on the new file at once (Path - Create `x-ms-lease-duration`). */
  proposedLeaseId: string | undefined;
  leaseDuration: string | undefined;
}

/** One page of a path listing. */
export interface PathPage {
  entries: PathEntry[];
  continuation: string | undefined;
}

/**
 * The emulated storage account: filesystems, paths and their bytes, kept
 * durably under one data directory. Every method is synchronous, so each
 * request's change is applied whole before the next one is looked at — the
 * same one-writer-at-a-time view a client gets from the service.
 */
export class LakeStore {
  /** The current index (read-only for callers). */
  readonly state: LakeState;
  /** The file data. */
  readonly data: DataFiles;
  private readonly journal: Journal;
  private readonly compactAfterBytes: number;
  private closed = false;

  private constructor(
    state: LakeState,
    data: DataFiles,
    journal: Journal,
    compactAfterBytes: number,
  ) {
    this.state = state;
    this.data = data;
    this.journal = journal;
    this.compactAfterBytes = compactAfterBytes;
  }

  /** Opens (or creates) the store in `options.dataDir`, replaying what a previous run left. */
  static open(options: LakeStoreOptions): LakeStore {
    const sync = options.syncWrites ?? false;
    const data = new DataFiles(path.join(options.dataDir, 'blobs'), { sync });
    const journal = new Journal(path.join(options.dataDir, 'state'), {
      sync,
      beforeSync: () => data.syncDirty(),
      ...(options.onCrashPoint ? { onCrashPoint: options.onCrashPoint } : {}),
    });
    const { snapshot, records } = journal.load();
    const state = LakeState.fromJSON(snapshot);
    for (const record of records) state.apply(record as Mutation);
    // Data files whose removal a crash interrupted are unreachable now; drop them.
    data.sweep(state.liveDataIds());
    if (records.length > 0) journal.compact(state.toJSON());
    return new LakeStore(state, data, journal, options.compactAfterBytes ?? COMPACT_AFTER_BYTES);
  }

  /**
   * Journals `mutation` and applies it. The record is group-committed: callers
   * answer only after {@link persisted}. Data it orphans is deleted once the
   * record is durable — before that, a crash would bring back an entry that
   * still needs those bytes.
   */
  commit(mutation: Mutation, crashPoint?: CrashPoint): void {
    if (this.closed) throw errors.internalError();
    this.journal.append(mutation, crashPoint);
    const freed = this.state.apply(mutation);
    if (freed.length > 0) {
      this.journal.durable().then(
        () => freed.forEach((id) => this.data.remove(id)),
        // The journal failed, so the freeing may not be on disk: keep the bytes; the next start sweeps them if unused.
        keepOrphansForSweep,
      );
    }
    if (this.journal.size > this.compactAfterBytes) this.journal.compact(this.state.toJSON());
  }

  /** True while some committed change is not yet durable (see {@link persisted}). */
  get hasUnpersistedChanges(): boolean {
    return this.journal.hasUndurableRecords;
  }

  /**
   * Resolves once every change committed so far is durable; rejects when the
   * journal could not be written. Every answer waits for it, so no client is
   * told of — or reads — a change a crash could still undo.
   */
  persisted(): Promise<void> {
    return this.journal.durable();
  }

  /** Makes every committed change durable now, synchronously (before overwriting bytes in place). */
  persistNow(): void {
    this.journal.writeNow();
  }

  /** Closes the journal and data files. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.journal.close();
    this.data.close();
  }

  // ---- filesystems -------------------------------------------------------

  /** The filesystem, or 404 in the endpoint's words. */
  filesystem(name: string, blob: boolean): FilesystemEntry {
    const fs = this.state.filesystems.get(name);
    if (!fs) throw errors.filesystemNotFound(blob);
    return fs;
  }

  /** Creates a filesystem; 409 when it exists. */
  createFilesystem(name: string, metadata: Record<string, string>, blob: boolean): FilesystemEntry {
    validateFilesystemName(name);
    if (this.state.filesystems.has(name)) throw errors.filesystemAlreadyExists(blob);
    const now = Date.now();
    this.commit({
      t: 'fs.put',
      fs: { name, etag: nextEtag(now), created: now, lastModified: now, metadata },
    });
    return this.filesystem(name, blob);
  }

  /** Deletes a filesystem and everything in it. */
  deleteFilesystem(name: string, conditions: ConditionHeaders, blob: boolean): void {
    const fs = this.filesystem(name, blob);
    requireConditions(fs, conditions);
    this.commit({ t: 'fs.del', fs: name });
  }

  /** Replaces a filesystem's metadata. */
  setFilesystemMetadata(
    name: string,
    metadata: Record<string, string>,
    conditions: ConditionHeaders,
    blob: boolean,
  ): FilesystemEntry {
    const fs = this.filesystem(name, blob);
    requireConditions(fs, conditions);
    const now = Date.now();
    const { paths: _paths, ...fields } = fs;
    this.commit({
      t: 'fs.put',
      fs: { ...fields, metadata, etag: nextEtag(now), lastModified: now },
    });
    return this.filesystem(name, blob);
  }

  /** Filesystems in name order, after `marker`, at most `max`. */
  listFilesystems(
    prefix: string,
    marker: string,
    max: number,
  ): { items: FilesystemEntry[]; next: string | undefined } {
    const all = [...this.state.filesystems.values()]
      .filter((fs) => fs.name.startsWith(prefix) && fs.name > marker)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const items = all.slice(0, max);
    const last = items.at(-1);
    return { items, next: all.length > max && last ? last.name : undefined };
  }

  // ---- paths -------------------------------------------------------------

  /** The path, or 404 in the endpoint's words. */
  path(fsName: string, name: string, blob: boolean): PathEntry {
    const entry = this.filesystem(fsName, blob).paths.get(name);
    if (!entry) throw errors.pathNotFound(blob);
    return entry;
  }

  /** Creates (or overwrites) a file or directory; missing parents become real directories. */
  createPath(fsName: string, name: string, request: CreatePathRequest): PathEntry {
    const fs = this.filesystem(fsName, false);
    const existing = fs.paths.get(name);
    if (existing && request.conditions.ifNoneMatch?.trim() === '*')
      throw errors.pathAlreadyExists();
    requireConditions(existing, request.conditions);
    if (existing && existing.kind !== request.kind) throw errors.pathConflict();
    const now = Date.now();
    if (existing)
      checkLeaseAccess(existing.lease, request.leaseId, now, { blob: false, write: true });
    const entries = this.missingParents(fs, name, now);
    let lease = existing?.lease;
    if (request.proposedLeaseId !== undefined || request.leaseDuration !== undefined) {
      const leaseRequest: LeaseRequest = {
        action: 'acquire',
        leaseId: undefined,
        proposedLeaseId: request.proposedLeaseId,
        durationSeconds: request.leaseDuration,
        breakPeriodSeconds: undefined,
      };
      lease = applyLeaseAction(existing?.lease, leaseRequest, now).lease;
    }
    const entry: PathEntry = {
      name,
      kind: request.kind,
      dataId: request.kind === 'file' ? DataFiles.newId() : null,
      committedLength: 0,
      staged: [],
      etag: nextEtag(now),
      created: request.kind === 'directory' && existing ? existing.created : now,
      lastModified: now,
      metadata: request.metadata,
      headers: request.headers,
      closed: false,
      ...(lease ? { lease } : {}),
    };
    entries.push(entry);
    this.commit({ t: 'path.put', fs: fsName, entries });
    return entry;
  }

  /** Deletes a file, or a directory (recursive, or refused with 409 when not empty). */
  deletePath(
    fsName: string,
    name: string,
    recursive: boolean,
    conditions: ConditionHeaders,
    leaseId: string | undefined,
  ): void {
    const fs = this.filesystem(fsName, false);
    const entry = fs.paths.get(name);
    if (!entry) throw errors.pathNotFound(false);
    requireConditions(entry, conditions);
    checkLeaseAccess(entry.lease, leaseId, Date.now(), { blob: false, write: true });
    if (entry.kind === 'directory' && !recursive && this.hasChildren(fs, name)) {
      throw new StorageError(
        409,
        'DirectoryNotEmpty',
        'The recursive query parameter value must be true to delete a non-empty directory.',
      );
    }
    this.commit({ t: 'path.del', fs: fsName, name });
  }

  /** Replaces metadata and/or HTTP headers of a path; a new ETag. */
  setPathProperties(
    fsName: string,
    name: string,
    change: { metadata?: Record<string, string>; headers?: PathHttpHeaders },
    conditions: ConditionHeaders,
    leaseId: string | undefined,
    blob: boolean,
  ): PathEntry {
    const entry = this.path(fsName, name, blob);
    requireConditions(entry, conditions);
    const now = Date.now();
    checkLeaseAccess(entry.lease, leaseId, now, { blob, write: true });
    const updated: PathEntry = {
      ...entry,
      ...(change.metadata ? { metadata: change.metadata } : {}),
      ...(change.headers ? { headers: change.headers } : {}),
      etag: nextEtag(now),
      lastModified: now,
    };
    this.commit({ t: 'path.put', fs: fsName, entries: [updated] });
    return updated;
  }

  /** Acquires, renews, changes, releases or breaks the lease of a path. */
  leasePath(
    fsName: string,
    name: string,
    request: LeaseRequest,
    conditions: ConditionHeaders,
    blob: boolean,
  ): { entry: PathEntry; status: number; headers: Record<string, string> } {
    const entry = this.path(fsName, name, blob);
    requireConditions(entry, conditions);
    const outcome = applyLeaseAction(entry.lease, request, Date.now(), blob ? 'blob' : 'dfs');
    const { lease: _old, ...rest } = entry;
    const updated: PathEntry = outcome.lease ? { ...rest, lease: outcome.lease } : rest;
    this.commit({ t: 'path.put', fs: fsName, entries: [updated] });
    return { entry: updated, status: outcome.status, headers: outcome.headers };
  }

  /** One page of the paths under `directory` (one level, or all levels when `recursive`). */
  listPaths(
    fsName: string,
    options: {
      directory: string;
      recursive: boolean;
      maxResults: number;
      continuation: string | undefined;
    },
  ): PathPage {
    const fs = this.filesystem(fsName, false);
    const { directory } = options;
    if (directory !== '' && !fs.paths.has(directory)) throw errors.pathNotFound(false);
    const after = options.continuation === undefined ? undefined : listingKey(options.continuation);
    const matching: Array<{ key: string; entry: PathEntry }> = [];
    for (const entry of fs.paths.values()) {
      if (directory !== '' && !entry.name.startsWith(`${directory}/`)) continue;
      if (!options.recursive && parentOf(entry.name) !== directory) continue;
      const key = listingKey(entry.name);
      if (after !== undefined && key <= after) continue;
      matching.push({ key, entry });
    }
    matching.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const page = matching.slice(0, options.maxResults).map((item) => item.entry);
    const last = page.at(-1);
    return {
      entries: page,
      continuation: matching.length > options.maxResults && last ? last.name : undefined,
    };
  }

  private hasChildren(fs: FilesystemEntry, dir: string): boolean {
    for (const entry of fs.paths.values()) if (entry.name.startsWith(`${dir}/`)) return true;
    return false;
  }

  private missingParents(fs: FilesystemEntry, name: string, now: number): PathEntry[] {
    const created: PathEntry[] = [];
    for (const ancestor of ancestorsOf(name)) {
      const existing = fs.paths.get(ancestor);
      if (existing?.kind === 'file') throw errors.pathConflict();
      if (existing) continue;
      created.push({
        name: ancestor,
        kind: 'directory',
        dataId: null,
        committedLength: 0,
        staged: [],
        etag: nextEtag(now),
        created: now,
        lastModified: now,
        metadata: {},
        headers: {},
        closed: false,
      });
    }
    return created;
  }
}

/** Leaves data files in place when it is not known whether freeing them is durable. */
function keepOrphansForSweep(_error: unknown): void {
  // Nothing to do: `DataFiles.sweep` removes unreferenced files at the next start.
}
