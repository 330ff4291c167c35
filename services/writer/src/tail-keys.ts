/** How every line this writer produces ends: `…,"_tributary":{"key":"<key>",…}}`. */
const MARKER = '"_tributary":{"key":"';
const KEY_LENGTH = '0000000000-0000000000-0000000000'.length;

/**
 * The ordering keys of the JSONL lines in `bytes`. The `_tributary` object is
 * the last field of each line, so the last marker on a line is ours even when
 * a user's document has a field of the same name.
 */
export function keysInLines(bytes: Uint8Array): string[] {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const keys: string[] = [];
  for (const line of text.split('\n')) {
    const at = line.lastIndexOf(MARKER);
    if (at < 0) continue;
    keys.push(line.slice(at + MARKER.length, at + MARKER.length + KEY_LENGTH));
  }
  return keys;
}
