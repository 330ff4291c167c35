import { type Document, Timestamp } from 'bson';
import { CliError } from '../cli-error.ts';
import type { CommandArgs } from '../command.ts';
import { isoTimeArgument } from '../iso-time-argument.ts';
import { resumeTokenArgument } from '../resume-token-argument.ts';

/** Where `tributary resume-point set` moves the resume point to. */
export interface ResumeTarget {
  /** Read from here, inclusive. */
  readonly clusterTime: Timestamp;
  /** The token the operator named (`--token`), kept for the record. */
  readonly token?: Document;
}

/**
 * Reads `--time ISO` or `--token T` (exactly one) before anything is
 * contacted. A time is read to the second: the clusterTime `(seconds, 0)`,
 * before every event of that second. A token — its `_data` hex text, or the
 * Extended JSON document `{"_data": "82…"}` as capture logs it and the
 * lake's lines carry it — stands for its own clusterTime, and the move
 * reads from there inclusive (the named event and the rest of its
 * transaction are read again: their keys stay those they always get, so
 * writers drop what they hold).
 *
 * @throws CliError `USAGE` naming what is missing, conflicting or malformed.
 */
export function resumeTarget(args: CommandArgs, nowMs: number): ResumeTarget {
  const { time, token } = args.values;
  if (time !== undefined && token !== undefined)
    throw new CliError(
      'USAGE',
      'Give --time or --token, not both: each says where capture resumes.',
    );
  if (typeof time === 'string') return notInTheFuture({ clusterTime: timeTarget(time) }, nowMs);
  if (typeof token === 'string') return notInTheFuture(tokenTarget(token), nowMs);
  throw new CliError(
    'USAGE',
    'Say where capture resumes: --time 2026-11-21T13:00:00Z, or --token with a resume token.',
  );
}

function timeTarget(text: string): Timestamp {
  const ms = isoTimeArgument('--time', text);
  if (ms < 0) throw new CliError('USAGE', `--time ${text} is before 1970.`);
  return new Timestamp({ t: Math.floor(ms / 1000), i: 0 });
}

function tokenTarget(text: string): ResumeTarget {
  const { token, clusterTime } = resumeTokenArgument('--token', text);
  return { clusterTime: new Timestamp({ t: clusterTime.t, i: clusterTime.i }), token };
}

function notInTheFuture(target: ResumeTarget, nowMs: number): ResumeTarget {
  if (target.clusterTime.t * 1000 > nowMs)
    throw new CliError(
      'USAGE',
      `${new Date(target.clusterTime.t * 1000).toISOString()} is in the future: capture would skip every event until then. Give a time that has passed.`,
    );
  return target;
}
