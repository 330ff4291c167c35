import type { LeaseRecord } from './leases.ts';
import type { ByteRange } from './staged-ranges.ts';

/** The standard HTTP properties of a path (`x-ms-content-type` and friends). */
export interface PathHttpHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  contentDisposition?: string;
  cacheControl?: string;
  /** Base64 MD5 of the whole file, when a client supplied one. */
  contentMd5?: string;
}

/** One file or directory of a filesystem. */
export interface PathEntry {
  name: string;
  kind: 'file' | 'directory';
  /** Random id naming the file's data on disk; `null` for directories. */
  dataId: string | null;
  /** Bytes visible to readers; only a flush moves it. */
  committedLength: number;
  /** Appended but not yet flushed bytes, beyond `committedLength`. */
  staged: ByteRange[];
  etag: string;
  created: number;
  lastModified: number;
  metadata: Record<string, string>;
  headers: PathHttpHeaders;
  lease?: LeaseRecord;
  /** True after a flush with `close=true` and no later flush. */
  closed: boolean;
}

/** One filesystem (Blob container) and its paths. */
export interface FilesystemEntry {
  name: string;
  etag: string;
  created: number;
  lastModified: number;
  metadata: Record<string, string>;
  paths: Map<string, PathEntry>;
}

/** A filesystem's own fields, without its paths (how the journal records it). */
export type FilesystemFields = Omit<FilesystemEntry, 'paths'>;

/**
 * One durable change. Every mutation of the store is first written to the
 * journal as one of these, then applied; replaying the journal after a crash
 * therefore rebuilds exactly the state clients were told about.
 */
export type Mutation =
  | { t: 'fs.put'; fs: FilesystemFields }
  | { t: 'fs.del'; fs: string }
  | { t: 'path.put'; fs: string; entries: PathEntry[] }
  | { t: 'path.del'; fs: string; name: string }
  | { t: 'path.mv'; fs: string; from: string; toFs: string; to: string };
