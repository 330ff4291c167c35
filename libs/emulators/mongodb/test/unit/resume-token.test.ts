import { Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { parseResumeToken, tokenData } from '../../src/oplog/resume-token.ts';

const ts = (t: number, i: number) => new Timestamp({ t, i });

describe('resume tokens', () => {
  it('order as strings the way events are ordered in the stream', () => {
    const ordered = [
      tokenData(ts(100, 1), 0, 'event'),
      tokenData(ts(100, 1), 1, 'event'),
      tokenData(ts(100, 1), 1, 'invalidate'),
      tokenData(ts(100, 1), 0, 'highWaterMark'),
      tokenData(ts(100, 2), 0, 'event'),
      tokenData(ts(101, 0), 0, 'highWaterMark'),
      tokenData(ts(101, 1), 0, 'event'),
    ];
    expect([...ordered].sort()).toEqual(ordered);
    expect(new Set(ordered).size).toBe(ordered.length);
  });

  it('decode back to the cluster time, position and kind they encode', () => {
    const parsed = parseResumeToken(
      { _data: tokenData(ts(1700000000, 7), 3, 'invalidate') },
      'resumeAfter',
    );
    expect(parsed.ts.equals(ts(1700000000, 7))).toBe(true);
    expect(parsed.txnOpIndex).toBe(3);
    expect(parsed.kind).toBe('invalidate');
  });

  it('reject malformed tokens with the server codes', () => {
    expect(() => parseResumeToken({ _data: 'zz' }, 'resumeAfter')).toThrow(
      expect.objectContaining({ code: 260 }),
    );
    expect(() => parseResumeToken({}, 'resumeAfter')).toThrow(expect.objectContaining({ code: 9 }));
  });
});
