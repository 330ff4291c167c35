import {
  MongoNetworkError,
  MongoServerError,
  MongoServerSelectionError,
  type TopologyDescription,
} from 'mongodb';
import { describe, expect, it } from 'vitest';
import { isCaptureError } from '../src/capture-error.ts';
import { classifyStreamError } from '../src/stream-errors.ts';

const server = (code: number, codeName: string, labels: string[] = []) =>
  new MongoServerError({
    ok: 0,
    code,
    codeName,
    errmsg: `${codeName} happened`,
    errorLabels: labels,
  });

describe('change stream failures', () => {
  it.each([
    ['a dropped connection', new MongoNetworkError('connection reset'), 'outage'],
    [
      'no server to select',
      new MongoServerSelectionError('no primary', {
        type: 'Unknown',
      } as unknown as TopologyDescription),
      'outage',
    ],
    ['a stepdown', server(10107, 'NotWritablePrimary'), 'outage'],
    ['a resumable label', server(999, 'Whatever', ['ResumableChangeStreamError']), 'outage'],
    ['a cursor the server forgot', server(43, 'CursorNotFound'), 'outage'],
    ['lost history', server(286, 'ChangeStreamHistoryLost'), 'HISTORY_LOST'],
    ['a resume token the oplog lacks', server(280, 'ChangeStreamFatalError'), 'RESUME_POINT_GONE'],
    ['refused credentials', server(18, 'AuthenticationFailed'), 'NOT_AUTHORIZED'],
    ['missing rights', server(13, 'Unauthorized'), 'NOT_AUTHORIZED'],
    ['a bad option', server(9, 'FailedToParse'), 'STREAM_REFUSED'],
    [
      'a resumable code the server marks non-resumable',
      server(10107, 'NotWritablePrimary', ['NonResumableChangeStreamError']),
      'STREAM_REFUSED',
    ],
  ])('sees %s as %s', (_what, error, expected) => {
    const failure = classifyStreamError(error);
    if (expected === 'outage') {
      expect(failure.kind).toBe('outage');
      return;
    }
    expect(failure.kind).toBe('fatal');
    const fatal = failure.kind === 'fatal' ? failure.error : undefined;
    expect(isCaptureError(fatal) && fatal.code).toBe(expected);
    expect(fatal?.message).toMatch(/[Tt]o recover|Fix the user|check/);
  });

  it('passes capture’s own errors on unchanged, as fatal', () => {
    const bug = new TypeError('x is undefined');
    expect(classifyStreamError(bug)).toEqual({ kind: 'fatal', error: bug });
  });
});
