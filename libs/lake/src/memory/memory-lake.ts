import type {
  AppendOptions,
  CreateOptions,
  Lake,
  LakeEntry,
  LakeFileState,
  WriteCondition,
} from '../lake.ts';
import { LakeError } from '../lake-error.ts';
import { checkLease } from '../lease-rule.ts';
import {
  checkAppendOffset,
  checkLakePath,
  checkLakePrefix,
  isUnderPrefix,
  sliceRange,
} from '../paths/lake-path.ts';

interface MemoryFile {
  data: Uint8Array;
  version: string;
  /** The write lease holding the file, if any. */
  lease?: string;
}

/**
 * A lake held in memory, with the same conditions and errors as the real
 * adapters, for fast unit tests of the writer. Every operation runs to
 * completion before the next starts (one event-loop turn), which is what
 * makes its compare-and-set atomic.
 */
export class MemoryLake implements Lake {
  readonly #files = new Map<string, MemoryFile>();
  /** Versions never repeat, even for a path written, replaced and written again. */
  #nextVersion = 1;
  #closed = false;

  async stat(path: string): Promise<LakeFileState | undefined> {
    this.#checkOpen();
    const file = this.#files.get(checkLakePath(path));
    return file === undefined ? undefined : stateOf(file);
  }

  async create(path: string, options: CreateOptions = {}): Promise<LakeFileState> {
    this.#checkOpen();
    checkLakePath(path);
    if (this.#files.has(path)) throw new LakeError('ALREADY_EXISTS', `${path} already exists.`);
    this.#checkNoFileAncestor(path);
    const file: MemoryFile = { data: new Uint8Array(0), version: this.#newVersion() };
    if (options.leaseId !== undefined) file.lease = options.leaseId;
    this.#files.set(path, file);
    return stateOf(file);
  }

  async append(
    path: string,
    offset: number,
    data: Uint8Array,
    options: AppendOptions,
  ): Promise<LakeFileState> {
    this.#checkOpen();
    checkLakePath(path);
    checkAppendOffset(offset);
    const file = this.#files.get(path);
    if (file === undefined) throw new LakeError('NOT_FOUND', `${path} does not exist.`);
    checkLease(path, file.lease, options.leaseId);
    if (file.version !== options.ifVersion)
      throw new LakeError('CONFLICT', `${path} is at another version than the one expected.`);
    if (file.data.length !== offset)
      throw new LakeError(
        'CONFLICT',
        `${path} has ${file.data.length} committed bytes, not the expected ${offset}.`,
      );
    const grown = new Uint8Array(offset + data.length);
    grown.set(file.data, 0);
    grown.set(data, offset);
    file.data = grown;
    file.version = this.#newVersion();
    return stateOf(file);
  }

  async acquireLease(
    path: string,
    leaseId: string,
    options: { readonly takeOver?: boolean } = {},
  ): Promise<void> {
    this.#checkOpen();
    const file = this.#files.get(checkLakePath(path));
    if (file === undefined) throw new LakeError('NOT_FOUND', `${path} does not exist.`);
    if (file.lease !== undefined && file.lease !== leaseId && options.takeOver !== true)
      throw new LakeError('CONFLICT', `${path} is leased by another writer.`);
    file.lease = leaseId;
  }

  async releaseLease(path: string, leaseId: string): Promise<void> {
    this.#checkOpen();
    const file = this.#files.get(checkLakePath(path));
    if (file?.lease === leaseId) delete file.lease;
  }

  async delete(path: string, options: { readonly ifVersion?: string } = {}): Promise<void> {
    this.#checkOpen();
    const file = this.#files.get(checkLakePath(path));
    if (file === undefined) return;
    if (file.lease !== undefined) throw new LakeError('CONFLICT', `${path} is leased.`);
    if (options.ifVersion !== undefined && file.version !== options.ifVersion)
      throw new LakeError('CONFLICT', `${path} is not at the expected version.`);
    this.#files.delete(path);
  }

  async read(path: string, offset = 0, length?: number): Promise<Uint8Array> {
    this.#checkOpen();
    const file = this.#files.get(checkLakePath(path));
    if (file === undefined) throw new LakeError('NOT_FOUND', `${path} does not exist.`);
    return sliceRange(file.data, offset, length);
  }

  async readDocument(
    path: string,
  ): Promise<{ data: Uint8Array; state: LakeFileState } | undefined> {
    this.#checkOpen();
    const file = this.#files.get(checkLakePath(path));
    return file === undefined ? undefined : { data: file.data.slice(), state: stateOf(file) };
  }

  async writeDocument(
    path: string,
    data: Uint8Array,
    condition: WriteCondition,
  ): Promise<LakeFileState> {
    this.#checkOpen();
    checkLakePath(path);
    const current = this.#files.get(path);
    if ('ifAbsent' in condition && current !== undefined)
      throw new LakeError('CONFLICT', `${path} already exists.`);
    if ('ifVersion' in condition && current?.version !== condition.ifVersion)
      throw new LakeError('CONFLICT', `${path} is not at the expected version.`);
    if (current === undefined) this.#checkNoFileAncestor(path);
    const file = { data: data.slice(), version: this.#newVersion() };
    this.#files.set(path, file);
    return stateOf(file);
  }

  async *list(prefix: string): AsyncIterable<LakeEntry> {
    this.#checkOpen();
    const normalised = checkLakePrefix(prefix);
    for (const [path, file] of [...this.#files]) {
      if (isUnderPrefix(path, normalised)) yield { path, length: file.data.length };
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #newVersion(): string {
    const version = String(this.#nextVersion);
    this.#nextVersion += 1;
    return version;
  }

  #checkOpen(): void {
    if (this.#closed) throw new LakeError('INVALID', 'The lake is closed.');
  }

  /** A file cannot also be a directory, as on a hierarchical namespace. */
  #checkNoFileAncestor(path: string): void {
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i += 1) {
      const ancestor = segments.slice(0, i).join('/');
      if (this.#files.has(ancestor))
        throw new LakeError('INVALID', `${ancestor} is a file, so ${path} cannot be below it.`);
    }
    for (const existing of this.#files.keys()) {
      if (existing.startsWith(`${path}/`))
        throw new LakeError('ALREADY_EXISTS', `${path} is a directory.`);
    }
  }
}

function stateOf(file: MemoryFile): LakeFileState {
  return { length: file.data.length, version: file.version };
}

/** Creates an empty in-memory lake (see {@link MemoryLake}). */
export function createMemoryLake(): Lake {
  return new MemoryLake();
}
