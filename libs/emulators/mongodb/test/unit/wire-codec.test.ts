import { serialize } from 'bson';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/wire/crc32c.ts';
import { decodeMessage, encodeOpMsg } from '../../src/wire/messages.ts';

describe('wire codec', () => {
  it('computes CRC-32C check values from the RFC 3720 test vectors', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
  });

  it('folds a document sequence into the command body', () => {
    const body = Buffer.from(serialize({ insert: 'c', $db: 'd' }));
    const name = Buffer.from('documents\0');
    const docs = [Buffer.from(serialize({ _id: 1 })), Buffer.from(serialize({ _id: 2 }))];
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + name.length + docs[0]!.length + docs[1]!.length);
    const sections = Buffer.concat([Buffer.from([0]), body, Buffer.from([1]), size, name, ...docs]);
    const header = Buffer.alloc(20);
    header.writeInt32LE(20 + sections.length, 0);
    header.writeInt32LE(2013, 12);
    const request = decodeMessage(Buffer.concat([header, sections]));
    expect(request.command).toEqual({ insert: 'c', $db: 'd', documents: [{ _id: 1 }, { _id: 2 }] });
  });

  it('encodes a reply whose length header matches its size', () => {
    const reply = Buffer.concat(encodeOpMsg(5, { ok: 1 }).parts);
    expect(reply.readInt32LE(0)).toBe(reply.length);
    expect(reply.readInt32LE(8)).toBe(5);
    expect(reply.readInt32LE(12)).toBe(2013);
  });

  it('refuses a reply beyond the 48 MB message limit with BSONObjectTooLarge (10334)', () => {
    expect(() => encodeOpMsg(5, { huge: 'x'.repeat(48_000_000) })).toThrow(
      expect.objectContaining({ code: 10334, codeName: 'BSONObjectTooLarge' }),
    );
  });

  it('rejects unknown required flag bits', () => {
    const body = Buffer.from(serialize({ ping: 1 }));
    const header = Buffer.alloc(21);
    header.writeInt32LE(21 + body.length, 0);
    header.writeInt32LE(2013, 12);
    header.writeUInt32LE(1 << 4, 16);
    expect(() => decodeMessage(Buffer.concat([header, body]))).toThrow(
      expect.objectContaining({ code: 9 }),
    );
  });
});
