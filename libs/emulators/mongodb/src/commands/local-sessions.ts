import { Binary, type Document } from 'bson';
import { createHash } from 'node:crypto';
import { CommandError } from '../errors/command-error.ts';
import { bsonEquals, isPlainObject } from '../storage/bson-values.ts';
import { ANONYMOUS_UID } from '../server/replica-node.ts';
import type { CommandContext } from '../server/command-context.ts';

/**
 * `$listLocalSessions`: the first stage of `{ aggregate: 1 }` (on `admin`, by custom),
 * producing one document per session in the node's session store
 * (`{ _id: { id, uid }, lastUse }`); the rest of the pipeline runs over
 * them. Without authentication every session belongs to the anonymous user,
 * so `{}` and `{ allUsers: true }` list them all and `users` lists those of
 * the named users (none).
 * https://www.mongodb.com/docs/manual/reference/operator/aggregation/listLocalSessions/
 */
export function localSessionDocuments(context: CommandContext, spec: unknown): Document[] {
  if (context.command.aggregate !== 1)
    throw new CommandError(
      'InvalidNamespace',
      '$listLocalSessions must be run against the database with {aggregate: 1}, not a collection',
    );
  if (!isPlainObject(spec))
    throw new CommandError('TypeMismatch', '$listLocalSessions must take a document');
  const users = spec.users;
  if (users !== undefined && spec.allUsers === true)
    throw new CommandError(
      'FailedToParse',
      "$listLocalSessions: 'allUsers' and 'users' are mutually exclusive",
    );
  const uids =
    users === undefined
      ? undefined
      : (Array.isArray(users) ? users : []).map((user: Document) =>
          userUid(`${String(user.user)}@${String(user.db)}`),
        );
  return context.node.sessions
    .list()
    .map(({ lsid, lastUsed }) => ({
      _id: { id: lsid.id, uid: ANONYMOUS_UID },
      lastUse: new Date(lastUsed),
    }))
    .filter((doc) => !uids || uids.some((uid) => bsonEquals(uid, doc._id.uid)));
}

function userUid(name: string): Binary {
  return new Binary(createHash('sha256').update(name).digest(), 0);
}
