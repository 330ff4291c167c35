import type { CliConfig } from '@tributary/core';
import type { Document } from 'bson';
import { CliError } from '../cli-error.ts';
import type { CommandArgs } from '../command.ts';
import { isoTimeArgument } from '../iso-time-argument.ts';
import { resumeTokenArgument } from '../resume-token-argument.ts';
import type { ClusterInstant } from './cluster-instant.ts';

/** What `tributary verify` was asked to do. */
export interface VerifyOptions {
  /** Compare with MongoDB (MONGODB_URI set, or demanded by `--source`). */
  readonly source: boolean;
  /** Where the event-by-event replay starts; absent: at the oldest line in the lake. */
  readonly replayFrom?:
    | { readonly kind: 'since'; readonly at: ClusterInstant }
    | { readonly kind: 'resume-token'; readonly token: Document; readonly after: ClusterInstant };
  /** Only this collection (`db.coll`). */
  readonly namespace?: string;
}

/**
 * Reads and checks `verify`'s options before anything is contacted.
 *
 * @throws CliError `USAGE` for conflicting or malformed options, and for a
 *   comparison with the source demanded without MONGODB_URI.
 */
export function verifyOptions(args: CommandArgs, config: CliConfig): VerifyOptions {
  const { since, namespace } = args.values;
  const resumeToken = args.values['resume-token'];
  if (since !== undefined && resumeToken !== undefined)
    throw new CliError(
      'USAGE',
      'Give --since or --resume-token, not both: each says where the change stream replay starts.',
    );
  const demanded = args.values.source === true || since !== undefined || resumeToken !== undefined;
  if (demanded && !config.mongodbUri)
    throw new CliError(
      'USAGE',
      `${args.values.source === true ? '--source' : since !== undefined ? '--since' : '--resume-token'} compares the lake with MongoDB: set MONGODB_URI to the deployment capture watches.`,
    );
  return {
    source: demanded || Boolean(config.mongodbUri),
    ...(typeof since === 'string'
      ? { replayFrom: { kind: 'since', at: sinceInstant(since) } }
      : {}),
    ...(typeof resumeToken === 'string' ? { replayFrom: resumeTokenStart(resumeToken) } : {}),
    ...(typeof namespace === 'string' ? { namespace: collectionName(namespace) } : {}),
  };
}

function sinceInstant(text: string): ClusterInstant {
  const ms = isoTimeArgument('--since', text);
  return { t: Math.floor(ms / 1000), i: 0 };
}

function resumeTokenStart(text: string): VerifyOptions['replayFrom'] {
  const { token, clusterTime } = resumeTokenArgument('--resume-token', text);
  return { kind: 'resume-token', token, after: clusterTime };
}

function collectionName(text: string): string {
  const dot = text.indexOf('.');
  if (dot <= 0 || dot === text.length - 1)
    throw new CliError('USAGE', `--namespace ${text} is not a collection: give it as db.coll.`);
  return text;
}
