import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import type { CommandDefinition } from '../server/command-context.ts';

/**
 * Refuses a command a multi-document transaction may not run, as the
 * server's `CommandHelpers::canUseTransactions` does: `count` (with its own
 * pointer to the alternative), any command not allowed in transactions,
 * anything against the `local` or `config` database, and an aggregate
 * writing with `$out` or `$merge`. The refusal happens
 * before the transaction is touched, so one already open stays open.
 */
export function checkAllowedInTransaction(
  name: string,
  definition: CommandDefinition,
  db: string,
  command: Document,
): void {
  if (name === 'count')
    throw new CommandError(
      'OperationNotSupportedInTransaction',
      "Cannot run 'count' in a multi-document transaction. Please see http://dochub.mongodb.org/core/transaction-count for a recommended alternative.",
    );
  if (!definition.inTransaction)
    throw new CommandError(
      'OperationNotSupportedInTransaction',
      `Cannot run '${name}' in a multi-document transaction.`,
    );
  if (db === 'local')
    throw new CommandError(
      'OperationNotSupportedInTransaction',
      "Cannot run command against the 'local' database in a transaction.",
    );
  if (db === 'config')
    throw new CommandError(
      'OperationNotSupportedInTransaction',
      'Cannot run command against the config database in a transaction.',
    );
  const output = name === 'aggregate' ? writingStage(command.pipeline) : undefined;
  if (output)
    throw new CommandError(
      'OperationNotSupportedInTransaction',
      `Operation not permitted in transaction :: caused by :: ${output} cannot be used in a transaction`,
    );
}

/** The writing stage (`$out` or `$merge`) among a pipeline's stages, if any. */
function writingStage(pipeline: unknown): string | undefined {
  if (!Array.isArray(pipeline)) return undefined;
  for (const stage of pipeline as unknown[]) {
    if (typeof stage !== 'object' || stage === null) continue;
    const key = Object.keys(stage).find((name) => name === '$out' || name === '$merge');
    if (key) return key;
  }
  return undefined;
}
