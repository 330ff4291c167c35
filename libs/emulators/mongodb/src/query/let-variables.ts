import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { isPlainObject } from '../storage/bson-values.ts';
import { runPipeline } from './query-engine.ts';

/**
 * A command's `let`: user variables that `$$name` reads in `$expr` filters,
 * aggregation pipelines and pipeline-style updates. Each value is an
 * expression, evaluated once before the command runs (so `$$NOW` and
 * operators work; there is no current document), as the server does.
 * https://www.mongodb.com/docs/manual/reference/command/find/#std-label-find-let-syntax
 */
export function parseLet(command: Document, name: string): Document | undefined {
  const spec: unknown = command.let;
  if (spec === undefined || spec === null) return undefined;
  if (!isPlainObject(spec))
    throw new CommandError(
      'TypeMismatch',
      `BSON field '${name}.let' is the wrong type, expected type 'object'`,
    );
  for (const variable of Object.keys(spec)) checkVariableName(variable);
  if (Object.keys(spec).length === 0) return {};
  const [values] = runPipeline([{}], [{ $replaceWith: { $literal: {} } }, { $set: spec }]);
  return values ?? {};
}

/** The server's rule for a user variable name (Variables::validateNameForUserWrite). */
function checkVariableName(variable: string): void {
  if (variable.length === 0)
    throw new CommandError('Location16866', 'empty variable names are not allowed');
  const first = variable.charCodeAt(0);
  if (!((first >= 0x61 && first <= 0x7a) || first >= 0x80))
    throw new CommandError(
      'Location16867',
      `'${variable}' starts with an invalid character for a user variable name`,
    );
  for (const char of variable.slice(1)) {
    if (!/[A-Za-z0-9_]/.test(char) && char.charCodeAt(0) < 0x80)
      throw new CommandError(
        'Location16868',
        `'${variable}' contains an invalid character for a variable name: '${char}'`,
      );
  }
}
