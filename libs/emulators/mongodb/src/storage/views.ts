import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { runPipeline } from '../query/query-engine.ts';
import { isPlainObject } from './bson-values.ts';
import { validateCollName } from './catalog.ts';
import type { CollectionData } from './collection-data.ts';

/**
 * Read-only views (`create` with `viewOn` and `pipeline`): a catalog entry
 * with no documents of its own, whose contents are its pipeline run over
 * its source — a collection or another view — each time it is read.
 * Writes and indexes on a view are CommandNotSupportedOnView (166).
 * https://www.mongodb.com/docs/manual/core/views/
 */

/** A view's definition, kept in its catalog entry's options. */
export interface ViewDefinition {
  viewOn: string;
  pipeline: Document[];
}

/** The server's limit on views defined on views. */
const MAX_VIEW_DEPTH = 20;

/** The definition `create` gives, or undefined when it creates a collection. */
export function parseViewDefinition(command: Document, db: string): ViewDefinition | undefined {
  if (command.viewOn === undefined) {
    if (command.pipeline !== undefined)
      throw new CommandError('BadValue', "'pipeline' requires 'viewOn' to also be specified");
    return undefined;
  }
  if (typeof command.viewOn !== 'string')
    throw new CommandError(
      'TypeMismatch',
      "BSON field 'create.viewOn' is the wrong type, expected type 'string'",
    );
  const pipeline: unknown = command.pipeline ?? [];
  if (!Array.isArray(pipeline) || !pipeline.every((stage) => isPlainObject(stage)))
    throw new CommandError(
      'TypeMismatch',
      "BSON field 'create.pipeline' is the wrong type, expected type 'array'",
    );
  for (const stage of pipeline as Document[]) {
    const name = Object.keys(stage)[0];
    if (name === '$out' || name === '$merge' || name === '$changeStream')
      throw new CommandError(
        'OptionNotSupportedOnView',
        `${name} cannot be used in a view definition`,
      );
  }
  return { viewOn: validateCollName(db, command.viewOn), pipeline: pipeline as Document[] };
}

/** Refuses to write through `collection` when it is a view. */
export function refuseViewWrite(
  collection: CollectionData | undefined,
  ns: { db: string; coll: string },
): void {
  if (collection?.options.view)
    throw new CommandError(
      'CommandNotSupportedOnView',
      `Namespace ${ns.db}.${ns.coll} is a view, not a collection`,
    );
}

/**
 * The documents a read of `coll` sees: a collection's own (just the
 * candidates for `filter` when given), or a view's pipeline over its source.
 */
export function readableDocuments(
  read: (coll: string) => CollectionData | undefined,
  coll: string,
  filter?: Document,
  collated = false,
  depth = 0,
): Document[] {
  const collection = read(coll);
  const view = collection?.options.view;
  if (!view) return collection?.candidates(filter, collated) ?? [];
  if (depth >= MAX_VIEW_DEPTH)
    throw new CommandError('ViewDepthLimitExceeded', 'View depth too deep or view cycle detected');
  const source = readableDocuments(read, view.viewOn, undefined, false, depth + 1);
  return runPipeline(source, view.pipeline, {
    resolve: (name) => readableDocuments(read, name, undefined, false, depth + 1),
  });
}

/** listCollections' entry for a view. */
export function viewInfo(name: string, view: ViewDefinition): Document {
  return {
    name,
    type: 'view',
    options: { viewOn: view.viewOn, pipeline: view.pipeline },
    info: { readOnly: true },
  };
}
