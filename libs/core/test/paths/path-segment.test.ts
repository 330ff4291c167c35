import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_SEGMENT_BYTES, encodePathSegment } from '../../src/index.ts';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** Reverses the escaping of a segment that was not shortened. */
function decodeSegment(segment: string): string {
  return decodeURIComponent(segment);
}

describe('namespace parts as lake path segments', () => {
  it.each([
    ['orders', 'orders'],
    ['orders.~old', 'orders.%7Eold'],
    ['..', '.%2E'],
    ['.', '%2E'],
    ['archive.', 'archive%2E'],
    ['100%', '100%25'],
    ['with space', 'with space'],
    ['a/b\\c', 'a%2Fb%5Cc'],
    ['tab\there', 'tab%09here'],
    ['del\u007f', 'del%7F'],
    ['c1\u0085', 'c1%C2%85'],
    ['private\ue000use', 'private%EE%80%80use'],
    ['special\ufffe', 'special%EF%BF%BE'],
    ['Größe-訂單', 'Größe-訂單'],
    ['_tributary', '%5Ftributary'],
    ['_tributary2', '_tributary2'],
    ['_Tributary', '%5FTributary'],
    ['c:orders', 'c%3Aorders'],
    ['what?*<>|"', 'what%3F%2A%3C%3E%7C%22'],
    ['~database', '%7Edatabase'],
  ])('encodes %j as %j', (name, segment) => {
    expect(encodePathSegment(name)).toBe(segment);
    expect(decodeSegment(segment)).toBe(name);
  });

  it('keeps a name that fits exactly as it is', () => {
    const name = 'x'.repeat(MAX_SEGMENT_BYTES);
    expect(encodePathSegment(name)).toBe(name);
  });

  it('shortens a name whose encoding is too long, with a stable hash suffix', () => {
    const name = '%'.repeat(120); // 360 bytes once encoded
    const segment = encodePathSegment(name);
    expect(bytes(segment)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
    expect(segment).toMatch(/^(%25)+~[0-9a-f]{16}$/);
    expect(encodePathSegment(name)).toBe(segment);
  });

  it('never cuts a multi-byte character or an escape when shortening', () => {
    for (const name of [
      '訂'.repeat(100),
      `${'a'.repeat(250)}%%%`,
      `${'a'.repeat(236)}\u0085${'b'.repeat(30)}`,
    ]) {
      const segment = encodePathSegment(name);
      expect(bytes(segment)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
      expect(segment).toMatch(/~[0-9a-f]{16}$/);
      const prefix = segment.slice(0, segment.lastIndexOf('~'));
      expect(() => decodeURIComponent(prefix)).not.toThrow();
      expect(name.startsWith(decodeURIComponent(prefix))).toBe(true);
    }
  });

  it('never ends a shortened prefix with a dot, which would form the reserved ".~"', () => {
    const segment = encodePathSegment(`${'a'.repeat(237)}.${'b'.repeat(40)}`);
    expect(segment).not.toContain('.~');
    expect(segment).toMatch(/^a{237}~[0-9a-f]{16}$/);
  });

  it('gives different names different segments, long or short', () => {
    const names = new Set<string>();
    for (let i = 0; i < 2000; i += 1) {
      const length = 1 + (randomBytes(1)[0] ?? 0);
      const alphabet = ['a', '.', '~', '%', ' ', 'é', '/', '\u0001', '訂', '_'];
      let name = '';
      for (const byte of randomBytes(length)) name += alphabet[byte % alphabet.length];
      names.add(name);
    }
    names.add('%7E');
    names.add('~');
    names.add('.%2E');
    names.add('..');
    const segments = new Map<string, string>();
    for (const name of names) {
      const segment = encodePathSegment(name);
      expect(segments.get(segment), `${name} and ${segments.get(segment)} collide`).toBeUndefined();
      segments.set(segment, name);
      expect(bytes(segment)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
      expect(segment).not.toMatch(/[/\\]|^\.{1,2}$|\.$|\.~/);
    }
  });
});
