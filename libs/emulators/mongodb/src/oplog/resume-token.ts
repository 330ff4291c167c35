import { Timestamp, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';

/**
 * Resume tokens are `{ _data: <hex> }` like the real server's. The hex is
 * "82" + seconds + increment + position-in-transaction + kind, fixed width,
 * so comparing two tokens as strings orders them by change-stream order and
 * the same event always gets the same token.
 */
export type TokenKind = 'event' | 'invalidate' | 'highWaterMark';

const KIND_HEX: Record<TokenKind, string> = { event: '00', invalidate: '01', highWaterMark: 'ff' };
const TOKEN_PATTERN = /^82[0-9a-f]{8}[0-9a-f]{8}[0-9a-f]{8}(00|01|ff)$/;

/** Decoded contents of a resume token. */
export interface ResumePoint {
  ts: Timestamp;
  txnOpIndex: number;
  kind: TokenKind;
  /** The `_data` string, comparable with `<`/`>`. */
  data: string;
}

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/** The `_data` string for an event at `ts`, position `txnOpIndex`. */
export function tokenData(ts: Timestamp, txnOpIndex: number, kind: TokenKind): string {
  // A high-water mark at T sorts after every event at T: everything up to T was seen.
  const index = kind === 'highWaterMark' ? 0xffffffff : txnOpIndex;
  return `82${hex8(ts.high)}${hex8(ts.low)}${hex8(index)}${KIND_HEX[kind]}`;
}

/** Decodes a client-supplied token; the server rejects malformed tokens the same way. */
export function parseResumeToken(token: unknown, option: string): ResumePoint {
  const data = (token as Document | null)?._data;
  if (typeof data !== 'string') {
    throw new CommandError(
      'FailedToParse',
      `${option} requires a resume token with a string _data field`,
    );
  }
  if (!TOKEN_PATTERN.test(data)) {
    throw new CommandError('InvalidResumeToken', `Invalid resume token in ${option}: ${data}`);
  }
  const seconds = Number.parseInt(data.slice(2, 10), 16);
  const increment = Number.parseInt(data.slice(10, 18), 16);
  const txnOpIndex = Number.parseInt(data.slice(18, 26), 16);
  const kindHex = data.slice(26, 28);
  const kind: TokenKind =
    kindHex === '00' ? 'event' : kindHex === '01' ? 'invalidate' : 'highWaterMark';
  return { ts: new Timestamp({ t: seconds, i: increment }), txnOpIndex, kind, data };
}

/** Orders two timestamps (negative, zero, positive). */
export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.high - b.high || a.low - b.low;
}
