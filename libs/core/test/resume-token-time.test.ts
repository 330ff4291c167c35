import { describe, expect, it } from 'vitest';
import { clusterTimeOfResumeToken, clusterTimestampOfResumeToken } from '../src/index.ts';

/** Eight hex digits, big endian, as a KeyString writes a 32-bit half of a Timestamp. */
function hex32(value: number): string {
  return value.toString(16).padStart(8, '0');
}

/**
 * A resume token's `_data` as MongoDB 3.6+ writes it: the Timestamp type
 * byte 0x82, the clusterTime's seconds and increment, then the rest of the
 * KeyString (version, document key…), which the time does not depend on.
 */
function tokenAt(
  seconds: number,
  increment: number,
  rest = '2B022C0100296E5A1004',
): { _data: string } {
  return { _data: `82${hex32(seconds)}${hex32(increment)}${rest}` };
}

describe('the clusterTime of a resume token', () => {
  it.each([
    ['a time in 2024', 1_718_000_000, 7],
    ['the epoch', 0, 1],
    ['the largest 32-bit second', 0xffff_ffff, 0xffff_ffff],
    ['a second whose top bit is set', 0x8000_0001, 0],
  ])('reads the seconds of %s', (_what, seconds, increment) => {
    expect(clusterTimeOfResumeToken(tokenAt(seconds, increment))).toBe(seconds);
  });

  it('reads the seconds whatever the increment and the rest of the token', () => {
    const seconds = 1_700_000_123;
    expect(clusterTimeOfResumeToken(tokenAt(seconds, 0))).toBe(seconds);
    expect(clusterTimeOfResumeToken(tokenAt(seconds, 0xffff_ffff, ''))).toBe(seconds);
    expect(clusterTimeOfResumeToken(tokenAt(seconds, 42, 'ff'.repeat(40)))).toBe(seconds);
  });

  it('reads the increment too, for the whole clusterTime', () => {
    expect(clusterTimestampOfResumeToken(tokenAt(1_718_000_000, 7))).toEqual({
      t: 1_718_000_000,
      i: 7,
    });
    expect(clusterTimestampOfResumeToken(tokenAt(0xffff_ffff, 0xffff_ffff, ''))).toEqual({
      t: 0xffff_ffff,
      i: 0xffff_ffff,
    });
    expect(clusterTimestampOfResumeToken({ _data: 'opaque' })).toBeUndefined();
  });

  it('reads lower-case and upper-case hex alike', () => {
    const { _data } = tokenAt(0xabcdef12, 3);
    expect(clusterTimeOfResumeToken({ _data: _data.toLowerCase() })).toBe(0xabcdef12);
    expect(clusterTimeOfResumeToken({ _data: _data.toUpperCase() })).toBe(0xabcdef12);
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a string rather than a document', tokenAt(1_718_000_000, 1)._data],
    ['a document without _data', { _typeBits: 'ab' }],
    ['a numeric _data', { _data: 8_266_666_666 }],
    ['a binary _data (a pre-3.6 token)', { _data: Buffer.from(tokenAt(1_718_000_000, 1)._data) }],
    ['an empty _data', { _data: '' }],
    ['a _data of another type byte', { _data: `3C${hex32(1_718_000_000)}${hex32(1)}2B02` }],
    ['a _data cut short of the increment', { _data: `82${hex32(1_718_000_000)}0000001` }],
    [
      'a _data with a non-hex digit in the time',
      { _data: `82${hex32(1_718_000_000).replace(/.$/, 'g')}${hex32(1)}` },
    ],
  ])('is undefined for %s', (_what, token) => {
    expect(clusterTimeOfResumeToken(token)).toBeUndefined();
  });
});
