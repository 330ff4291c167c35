import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { isPlainObject } from '../storage/bson-values.ts';
import type { Collation } from './collation.ts';
import { findDocuments, runPipeline, type PipelineOptions } from './query-engine.ts';

/**
 * An aggregation under a non-simple collation, for the stages whose
 * meaning the emulator can keep: `$match` (strings compared folded, as a
 * find does), `$sort` (mingo's collator), and stages that never compare
 * strings — what `countDocuments` and paged, sorted reads send. Any other
 * stage could compare strings binary where the server would not, so it is
 * refused, naming the stage.
 */

/** Stages that never compare strings, or (`$sort`) that mingo collates. */
const NEUTRAL_STAGES = new Set(['$sort', '$skip', '$limit', '$count', '$unset']);
/** Accumulators that never compare strings. */
const NEUTRAL_ACCUMULATORS = new Set(['$sum', '$avg', '$count']);

function isNeutralGroup(spec: unknown): boolean {
  if (!isPlainObject(spec)) return false;
  const id: unknown = spec._id;
  const constantId =
    id === null ||
    typeof id === 'number' ||
    typeof id === 'boolean' ||
    (typeof id === 'string' && !id.startsWith('$'));
  return (
    constantId &&
    Object.entries(spec).every(
      ([key, accumulator]) =>
        key === '_id' ||
        (isPlainObject(accumulator) &&
          Object.keys(accumulator).length === 1 &&
          NEUTRAL_ACCUMULATORS.has(Object.keys(accumulator)[0] as string)),
    )
  );
}

function isFieldProjection(spec: unknown): boolean {
  return (
    isPlainObject(spec) &&
    Object.values(spec).every((v) => v === 0 || v === 1 || v === true || v === false)
  );
}

/** Runs `stages` over `docs` under `collation`. */
export function runCollatedPipeline(
  docs: Document[],
  stages: Document[],
  options: PipelineOptions & { collation: Collation },
): Document[] {
  let current = docs;
  for (const stage of stages) {
    const name = Object.keys(stage)[0] as string;
    const spec: unknown = stage[name];
    if (name === '$match') {
      current = findDocuments(current, {
        filter: spec as Document,
        variables: options.variables,
        collation: options.collation,
      });
    } else if (
      NEUTRAL_STAGES.has(name) ||
      (name === '$group' && isNeutralGroup(spec)) ||
      (name === '$project' && isFieldProjection(spec))
    ) {
      current = runPipeline(current, [stage], options);
    } else {
      throw new CommandError(
        'BadValue',
        `the ${name} stage under a non-simple collation is not supported by the Tributary MongoDB emulator`,
      );
    }
  }
  return current;
}
