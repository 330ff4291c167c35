import { createHash } from 'node:crypto';

/**
 * The longest path segment written, in UTF-8 bytes. ADLS Gen2 takes up to
 * 255 characters per segment and local filesystems (ext4, APFS, NTFS) 255
 * bytes per name; 255 bytes fits both.
 */
export const MAX_SEGMENT_BYTES = 255;

/** Hex digits of the SHA-256 that ends a shortened segment. */
const HASH_HEX = 16;

/**
 * Where Tributary keeps its own state at the lake's root. A database of
 * this name must not land there, so it is escaped like a reserved name.
 */
const RESERVED_NAMES = new Set(['_tributary']);

/**
 * Characters escaped as `%XX` (UTF-8 bytes): `%` itself, so escaping stays
 * reversible; `/` and `\`, which would split the segment; `~`, which never
 * appears raw in an escaped name and so marks a shortened one (and cannot
 * form the lake port's reserved `.~`); `:` `*` `?` `"` `<` `>` `|`, which
 * Windows file systems refuse (and `X:` would read as a drive letter); C0
 * and C1 control characters and DEL, private-use code points and the
 * U+FFF0–U+FFFF specials, which Azure Storage refuses in names even when
 * URL-encoded
 * (https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata).
 */
// Control characters are matched on purpose: they must never reach a path.
// eslint-disable-next-line no-control-regex
const ESCAPED = /[%/\\~:*?"<>|\u0000-\u001f\u007f-\u009f\ue000-\uf8ff\ufff0-\uffff]/gu;

function percentEncode(char: string): string {
  return [...Buffer.from(char, 'utf8')]
    .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
    .join('');
}

/**
 * Turns one namespace part (a database or collection name) into one safe,
 * deterministic and collision-free path segment:
 *
 * - the characters in {@link ESCAPED} are percent-encoded, and a trailing
 *   `.` is too (`.`, `..` and names ending in a dot are refused or mangled
 *   by storage services and filesystems);
 * - `_tributary` (in any case), the lake's state directory, becomes `%5Ftributary`;
 * - a result longer than {@link MAX_SEGMENT_BYTES} keeps a readable prefix
 *   and ends in `~` and 16 hex digits of the SHA-256 of the original name.
 *
 * Different names always give different segments: escaping is reversible
 * and never leaves a raw `~`, so a shortened segment (the only kind with a
 * raw `~`) cannot equal an escaped one, and two shortened ones differ in
 * their hash.
 */
export function encodePathSegment(part: string): string {
  // One unit per character of the name, so shortening never splits one.
  const units = [...part].map((char) => char.replace(ESCAPED, percentEncode));
  const last = units.length - 1;
  if (units[last] === '.') units[last] = '%2E';
  // Case-insensitively, for lakes on file systems that fold case.
  if (RESERVED_NAMES.has(part.toLowerCase())) units[0] = percentEncode(units[0] ?? '');
  const encoded = units.join('');
  if (Buffer.byteLength(encoded, 'utf8') <= MAX_SEGMENT_BYTES) return encoded;
  return shortened(units, part);
}

/**
 * The longest run of whole characters from the start that, with `~` and
 * the hash, fits the limit — never ending in a dot.
 */
function shortened(units: readonly string[], original: string): string {
  const hash = createHash('sha256').update(original, 'utf8').digest('hex').slice(0, HASH_HEX);
  const budget = MAX_SEGMENT_BYTES - 1 - HASH_HEX;
  let prefix = '';
  let bytes = 0;
  for (const unit of units) {
    const size = Buffer.byteLength(unit, 'utf8');
    if (bytes + size > budget) break;
    prefix += unit;
    bytes += size;
  }
  return `${prefix.replace(/\.+$/, '')}~${hash}`;
}
