import { isWithin } from './names.ts';
import type { FilesystemEntry, FilesystemFields, Mutation, PathEntry } from './types.ts';

/**
 * The in-memory index of filesystems and paths, changed only by applying
 * {@link Mutation}s — live, right after they are journaled, and again when
 * the journal is replayed at start-up. `apply` must therefore be
 * deterministic and never fail on a mutation the live path accepted.
 */
export class LakeState {
  readonly filesystems = new Map<string, FilesystemEntry>();

  /** Applies one mutation. Returns the data ids it made unreachable. */
  apply(mutation: Mutation): string[] {
    switch (mutation.t) {
      case 'fs.put': {
        const existing = this.filesystems.get(mutation.fs.name);
        this.filesystems.set(mutation.fs.name, {
          ...mutation.fs,
          paths: existing?.paths ?? new Map(),
        });
        return [];
      }
      case 'fs.del': {
        const existing = this.filesystems.get(mutation.fs);
        this.filesystems.delete(mutation.fs);
        return existing ? dataIdsOf(existing.paths.values()) : [];
      }
      case 'path.put': {
        const paths = this.filesystems.get(mutation.fs)?.paths;
        if (!paths) return [];
        const freed: string[] = [];
        for (const entry of mutation.entries) {
          const previous = paths.get(entry.name);
          if (previous?.dataId && previous.dataId !== entry.dataId) freed.push(previous.dataId);
          paths.set(entry.name, entry);
        }
        return freed;
      }
      case 'path.del': {
        const paths = this.filesystems.get(mutation.fs)?.paths;
        if (!paths) return [];
        const target = paths.get(mutation.name);
        // A file has no descendants; only a directory needs the scan.
        const removed =
          target?.kind === 'file'
            ? [target]
            : [...paths.values()].filter((entry) => isWithin(entry.name, mutation.name));
        for (const entry of removed) paths.delete(entry.name);
        return dataIdsOf(removed);
      }
      case 'path.mv': {
        const from = this.filesystems.get(mutation.fs)?.paths;
        const to = this.filesystems.get(mutation.toFs)?.paths;
        if (!from || !to) return [];
        const source = from.get(mutation.from);
        const moving =
          source?.kind === 'file'
            ? [source]
            : [...from.values()].filter((entry) => isWithin(entry.name, mutation.from));
        const freed: string[] = [];
        for (const entry of moving) from.delete(entry.name);
        for (const entry of moving) {
          const name = mutation.to + entry.name.slice(mutation.from.length);
          const replaced = to.get(name);
          if (replaced?.dataId) freed.push(replaced.dataId);
          to.set(name, { ...entry, name });
        }
        return freed;
      }
    }
  }

  /** A plain-JSON copy of the whole state, for the journal's snapshot. */
  toJSON(): { filesystems: Array<FilesystemFields & { paths: PathEntry[] }> } {
    return {
      filesystems: [...this.filesystems.values()].map((fs) => ({
        name: fs.name,
        etag: fs.etag,
        created: fs.created,
        lastModified: fs.lastModified,
        metadata: fs.metadata,
        paths: [...fs.paths.values()],
      })),
    };
  }

  /** Restores a state written by {@link toJSON}. */
  static fromJSON(value: unknown): LakeState {
    const state = new LakeState();
    const snapshot = value as ReturnType<LakeState['toJSON']> | undefined;
    for (const fs of snapshot?.filesystems ?? []) {
      const { paths, ...fields } = fs;
      state.filesystems.set(fs.name, {
        ...fields,
        paths: new Map(paths.map((entry) => [entry.name, entry])),
      });
    }
    return state;
  }

  /** Every data id still referenced. */
  liveDataIds(): Set<string> {
    const ids = new Set<string>();
    for (const fs of this.filesystems.values())
      for (const id of dataIdsOf(fs.paths.values())) ids.add(id);
    return ids;
  }
}

function dataIdsOf(entries: Iterable<PathEntry>): string[] {
  const ids: string[] = [];
  for (const entry of entries) if (entry.dataId) ids.push(entry.dataId);
  return ids;
}
