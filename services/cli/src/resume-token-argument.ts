import { type ClusterTimeLike, clusterTimestampOfResumeToken } from '@tributary/core';
import { type Document, EJSON } from 'bson';
import { CliError } from './cli-error.ts';

/** A resume token an operator named on the command line, and the clusterTime it stands at. */
export interface ResumeTokenArgument {
  readonly token: Document;
  readonly clusterTime: ClusterTimeLike;
}

/**
 * Reads a resume token given as an option's value — its `_data` hex text
 * alone, or the Extended JSON document `{"_data": "82…"}` as capture logs it
 * and the lake's lines carry it — the one way `tributary verify
 * --resume-token` and `tributary resume-point set --token` both read one.
 * Only tokens that carry their clusterTime (MongoDB 3.6 and later) are
 * taken: both commands need to know where the token stands.
 *
 * @param option the option as the operator typed it (`--token`), for the messages.
 * @throws CliError `USAGE` naming the option and what is wrong with its value.
 */
export function resumeTokenArgument(option: string, text: string): ResumeTokenArgument {
  let token: Document;
  try {
    const parsed: unknown = text.trim().startsWith('{')
      ? EJSON.parse(text, { relaxed: false })
      : { _data: text.trim() };
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not a document');
    token = parsed as Document;
  } catch (error) {
    throw new CliError(
      'USAGE',
      `${option} is not a resume token's _data nor Extended JSON {"_data": "…"}: ${(error as Error).message}.`,
    );
  }
  const clusterTime = clusterTimestampOfResumeToken(token);
  if (!clusterTime || !/^[0-9a-f]+$/i.test(String(token._data)))
    throw new CliError(
      'USAGE',
      `${option} ${text} is not a change stream resume token: its _data must be hex text starting with 82 and the clusterTime (MongoDB 3.6 or later).`,
    );
  return { token, clusterTime };
}
