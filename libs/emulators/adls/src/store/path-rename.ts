import { StorageError, errors } from '../http/storage-error.ts';
import { requireConditions, type ConditionHeaders } from './conditions.ts';
import type { LakeStore } from './lake-store.ts';
import { checkLeaseAccess } from './leases.ts';
import { isWithin, parentOf } from './names.ts';
import type { PathEntry } from './types.ts';

/**
 * Rename (Path - Create with `x-ms-rename-source`,
 * https://learn.microsoft.com/rest/api/storageservices/datalakestoragegen2/path/create):
 * a file or a directory with everything under it moves in one journal
 * record, so no reader — and no restart — ever sees part of a directory
 * under the old name and part under the new.
 */

/** What a rename asks for. */
export interface RenameRequest {
  sourceConditions: ConditionHeaders;
  conditions: ConditionHeaders;
  sourceLeaseId: string | undefined;
  leaseId: string | undefined;
}

/** Moves `source` in `sourceFs` to `name` in `fsName`; returns the moved entry. */
export function renamePath(
  store: LakeStore,
  sourceFs: string,
  source: string,
  fsName: string,
  name: string,
  request: RenameRequest,
): PathEntry {
  const targetFs = store.filesystem(fsName, false);
  const from = store.state.filesystems.get(sourceFs)?.paths.get(source);
  if (!from)
    throw new StorageError(
      404,
      'SourcePathNotFound',
      'The source path for a rename operation does not exist.',
    );
  requireConditions(from, request.sourceConditions, { source: true });
  const now = Date.now();
  checkLeaseAccess(from.lease, request.sourceLeaseId, now, { blob: false, write: true });
  if (sourceFs === fsName && from.kind === 'directory' && isWithin(name, source)) {
    throw new StorageError(
      409,
      'InvalidRenameSourcePath',
      'The source directory cannot be the same as the destination directory, nor can the destination be a subdirectory of the source directory.',
    );
  }
  if (sourceFs === fsName && source === name) return from;
  const parent = parentOf(name);
  if (parent !== '' && targetFs.paths.get(parent)?.kind !== 'directory') {
    throw new StorageError(
      404,
      'RenameDestinationParentPathNotFound',
      'The parent directory of the destination path does not exist.',
    );
  }
  const existing = targetFs.paths.get(name);
  if (existing && request.conditions.ifNoneMatch?.trim() === '*') throw errors.pathAlreadyExists();
  requireConditions(existing, request.conditions);
  if (existing) {
    if (existing.kind !== from.kind) {
      throw new StorageError(
        409,
        'InvalidSourceOrDestinationResourceType',
        'The source and destination resource type must be identical.',
      );
    }
    if (existing.kind === 'directory') throw errors.pathAlreadyExists();
    checkLeaseAccess(existing.lease, request.leaseId, now, { blob: false, write: true });
  }
  store.commit({ t: 'path.mv', fs: sourceFs, from: source, toFs: fsName, to: name });
  return store.path(fsName, name, false);
}
