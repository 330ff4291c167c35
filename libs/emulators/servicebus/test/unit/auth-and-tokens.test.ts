import { describe, expect, it } from 'vitest';
import {
  dotnetTicks,
  newLockToken,
  swapGuidByteOrder,
  uuidBytes,
  uuidText,
} from '../../src/amqp/lock-token.ts';
import { audienceCovers, checkSasToken, signSas } from '../../src/auth/sas-token.ts';

const KEY = 'secret-key';
const NOW = 1_700_000_000_000;

function token(
  audience: string,
  expirySeconds: number,
  key = KEY,
  keyName = 'RootManageSharedAccessKey',
): string {
  const sr = encodeURIComponent(audience);
  const sig = encodeURIComponent(signSas(key, sr, expirySeconds));
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${expirySeconds}&skn=${keyName}`;
}

describe('SAS tokens', () => {
  const credentials = { keyName: 'RootManageSharedAccessKey', key: KEY };
  const later = NOW / 1000 + 3600;
  it.each([
    ['a token for the entity', token('sb://h:1/q', later), 'sb://h:1/q', true],
    ['a namespace-wide token', token('sb://h:1/', later), 'sb://h:1/q/$management', true],
    ['a token for another entity', token('sb://h:1/other', later), 'sb://h:1/q', false],
    [
      'a token for a longer name with the same prefix',
      token('sb://h:1/q', later),
      'sb://h:1/queue2',
      false,
    ],
    ['an expired token', token('sb://h:1/q', NOW / 1000 - 1), 'sb://h:1/q', false],
    [
      'a token signed with another key',
      token('sb://h:1/q', later, 'other-key'),
      'sb://h:1/q',
      false,
    ],
    [
      'a token with another key name',
      token('sb://h:1/q', later, KEY, 'listen'),
      'sb://h:1/q',
      false,
    ],
    ['text that is no token', 'Bearer abc', 'sb://h:1/q', false],
  ])('%s → accepted: %s', (_name, t, audience, ok) => {
    expect(checkSasToken(t, audience, NOW, credentials).ok).toBe(ok);
  });

  it('checks only form, expiry and audience when no key is configured', () => {
    expect(
      checkSasToken(token('sb://h:1/q', later, 'any-key'), 'sb://h:1/q', NOW, undefined).ok,
    ).toBe(true);
    expect(
      checkSasToken(token('sb://h:1/q', NOW / 1000 - 1), 'sb://h:1/q', NOW, undefined).ok,
    ).toBe(false);
  });

  it('never puts the token or key in a refusal', () => {
    const t = token('sb://h:1/q', later, 'wrong');
    const check = checkSasToken(t, 'sb://h:1/q', NOW, credentials);
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.reason).not.toContain(KEY);
      expect(check.reason).not.toContain(t);
      expect(check.reason).not.toContain(decodeURIComponent(t.split('sig=')[1]!.split('&')[0]!));
    }
  });

  it.each([
    ['sb://host/q', 'SB://HOST/q/', true],
    ['https://host/q', 'sb://host/q/$DeadLetterQueue', true],
    ['sb://host/q', 'sb://host/q2', false],
  ])('audience %s covers %s: %s', (resource, audience, covers) => {
    expect(audienceCovers(resource, audience)).toBe(covers);
  });
});

describe('lock tokens', () => {
  it('sends the delivery tag in .NET GUID byte order, which the SDK turns back into the token text', () => {
    const lock = newLockToken();
    expect(uuidText(lock.uuid)).toBe(lock.text);
    // The SDK's reorderLockToken is the same swap: applying it to the tag gives the canonical bytes.
    expect(uuidText(swapGuidByteOrder(lock.tag))).toBe(lock.text);
    expect(lock.tag.subarray(0, 4)).toEqual(Buffer.from([...lock.uuid.subarray(0, 4)].reverse()));
    expect(uuidBytes(lock.text)).toEqual(lock.uuid);
    expect(uuidBytes('not-a-guid')).toBeUndefined();
  });

  it('encodes times as .NET ticks for com.microsoft:locked-until-utc', () => {
    // 2001-01-01T00:00:00Z is 631139040000000000 ticks.
    expect(dotnetTicks(Date.UTC(2001, 0, 1)).readBigInt64BE(0)).toBe(631139040000000000n);
  });
});
