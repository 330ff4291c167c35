import { MongoError, MongoNetworkError, MongoServerSelectionError } from 'mongodb';
import type { DependencyFailure } from '@tributary/telemetry';
import { CaptureError } from './capture-error.ts';

/**
 * What a change stream failure means for capture: an outage (MongoDB is
 * unreachable or failing over — wait, then read on from where capture is),
 * or fatal (reading on cannot be right: capture stops with an error that
 * says what to do).
 */
export type StreamFailure = DependencyFailure;

/**
 * Server codes after which a change stream can be resumed, as the change
 * streams specification lists them
 * (https://github.com/mongodb/specifications/blob/master/source/change-streams/change-streams.md#resumable-error).
 */
const RESUMABLE_CODES = new Set([
  6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 63, 150, 13388, 234, 133, 43,
]);

const HISTORY_LOST = 286;
const FATAL_TOKEN = 280;
const AUTHENTICATION_FAILED = 18;
const UNAUTHORIZED = 13;

/**
 * Classifies a change stream (or connection) failure by the driver's error
 * type, code and labels — never its message. Pure, and tested with a table.
 */
export function classifyStreamError(error: unknown): StreamFailure {
  if (error instanceof MongoServerSelectionError || error instanceof MongoNetworkError)
    return {
      kind: 'outage',
      reason: `MongoDB cannot be reached (${error.name}: ${error.message}); check MONGODB_URI, the network, and that the replica set is running`,
    };
  if (!(error instanceof MongoError)) {
    return { kind: 'fatal', error: error instanceof Error ? error : new Error(String(error)) };
  }
  const code = typeof error.code === 'number' ? error.code : undefined;
  if (error.hasErrorLabel('NonResumableChangeStreamError'))
    return { kind: 'fatal', error: fatalError(error, code) };
  if (
    error.hasErrorLabel('ResumableChangeStreamError') ||
    (code !== undefined && RESUMABLE_CODES.has(code))
  )
    return { kind: 'outage', reason: `MongoDB is failing over or busy (${codeOf(error)})` };
  return { kind: 'fatal', error: fatalError(error, code) };
}

function codeOf(error: MongoError): string {
  const name = (error as { codeName?: unknown }).codeName;
  return `${typeof name === 'string' ? name : error.name} ${String(error.code ?? '')}`.trim();
}

function fatalError(error: MongoError, code: number | undefined): CaptureError {
  switch (code) {
    case HISTORY_LOST:
      return new CaptureError(
        'HISTORY_LOST',
        'MongoDB no longer has the oplog history capture must resume from (ChangeStreamHistoryLost): events after the last checkpoint may have been dropped before they were read. ' +
          'Capture stopped rather than skip them. To recover: enlarge the oplog (replSetResizeOplog) so this does not recur; then either accept the gap — `tributary resume-point set --time <a time inside the oplog window>` marks it in the lake and capture resumes there — or re-snapshot the affected collections into the lake and clear the checkpoints to start from now.',
        { cause: error },
      );
    case FATAL_TOKEN:
      return new CaptureError(
        'RESUME_POINT_GONE',
        'MongoDB cannot resume from capture’s resume point (ChangeStreamFatalError 280: the resume token was not found): the event it names is not in the oplog as it was written — the source lost writes (a rollback after a failover, a restore from a backup) or the replica set was rebuilt. ' +
          'Capture stopped rather than skip or repeat events. To recover: find out which writes the source lost, re-snapshot the affected collections into the lake, then move the resume point past them (`tributary resume-point set --time …`) or clear the checkpoints to start from now.',
        { cause: error },
      );
    case AUTHENTICATION_FAILED:
    case UNAUTHORIZED:
      return new CaptureError(
        'NOT_AUTHORIZED',
        `MongoDB refused capture’s credentials or rights (${codeOf(error)}): the user in MONGODB_URI needs the changeStream and find actions on what it watches (the read role on the databases, or readAnyDatabase for a deployment-wide stream). Fix the user and start capture again.`,
        { cause: error },
      );
    default:
      return new CaptureError(
        'STREAM_REFUSED',
        `MongoDB refused the change stream (${codeOf(error)}): ${error.message}. Capture stopped; check TRIBUTARY_CAPTURE_SCOPE and the options it uses (TRIBUTARY_FULL_DOCUMENT*), then start it again.`,
        { cause: error },
      );
  }
}
