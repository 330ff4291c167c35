import { randomUUID } from 'node:crypto';

/**
 * Lock tokens are GUIDs. On a receive link the service sends a message's lock
 * token as its 16-byte delivery tag in .NET `Guid.ToByteArray()` order (the
 * first three groups little-endian); the SDK turns the tag back into the
 * canonical text with `reorderLockToken` (`@azure/service-bus`,
 * `util/utils.js`). On `$management` lock tokens travel as AMQP `uuid`
 * values in canonical (RFC 4122) byte order.
 */
export interface LockToken {
  /** Canonical lower-case text, e.g. `3f2504e0-4f89-11d3-9a0c-0305e82c3301`. */
  text: string;
  /** RFC 4122 byte order (an AMQP `uuid`). */
  uuid: Buffer;
  /** .NET GUID byte order (the delivery tag). */
  tag: Buffer;
}

/** Swaps between RFC 4122 and .NET GUID byte order (the swap is its own inverse). */
export function swapGuidByteOrder(bytes: Buffer): Buffer {
  if (bytes.length !== 16) throw new RangeError('a GUID has 16 bytes');
  const out = Buffer.from(bytes);
  out[0] = bytes[3]!;
  out[1] = bytes[2]!;
  out[2] = bytes[1]!;
  out[3] = bytes[0]!;
  out[4] = bytes[5]!;
  out[5] = bytes[4]!;
  out[6] = bytes[7]!;
  out[7] = bytes[6]!;
  return out;
}

/** Canonical text of a GUID given in RFC 4122 byte order. */
export function uuidText(uuid: Buffer): string {
  if (uuid.length !== 16) throw new RangeError('a GUID has 16 bytes');
  const hex = uuid.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** RFC 4122 bytes of a GUID's canonical text; `undefined` when the text is not a GUID. */
export function uuidBytes(text: string): Buffer | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text))
    return undefined;
  return Buffer.from(text.replaceAll('-', ''), 'hex');
}

/** A new random lock token in all three forms. */
export function newLockToken(): LockToken {
  const text = randomUUID();
  const uuid = Buffer.from(text.replaceAll('-', ''), 'hex');
  return { text, uuid, tag: swapGuidByteOrder(uuid) };
}

/** .NET ticks (100 ns since 0001-01-01) at the Unix epoch. */
const EPOCH_TICKS = 621355968000000000n;

/**
 * A time as .NET ticks in an 8-byte big-endian buffer: the form of
 * `com.microsoft:locked-until-utc` on a session receiver's attach (the SDK
 * reads it with `convertTicksToDate`).
 */
export function dotnetTicks(ms: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigInt64BE(BigInt(Math.trunc(ms)) * 10000n + EPOCH_TICKS);
  return out;
}
