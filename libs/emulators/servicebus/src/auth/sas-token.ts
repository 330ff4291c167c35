import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Shared Access Signature tokens as the SDK builds them (`@azure/core-amqp`,
 * `auth/tokenProvider.js`):
 * `SharedAccessSignature sr=<uri-encoded audience>&sig=<uri-encoded
 * base64 HMAC-SHA256>&se=<expiry, s since 1970>&skn=<key name>`, signed over
 * `<sr as sent>\n<se>` with the key's text as the HMAC key
 * (https://learn.microsoft.com/azure/service-bus-messaging/service-bus-sas).
 *
 * Pure: no clock or configuration of its own, so every rule is table-tested.
 */
export interface SasTokenFields {
  resource: string;
  /** The `sr` value exactly as it appears in the token (what was signed). */
  rawResource: string;
  signature: string;
  expirySeconds: number;
  keyName: string;
}

/** The outcome of checking a token: what it grants, or why it is refused. */
export type SasTokenCheck =
  { ok: true; resource: string; expiresAtMs: number } | { ok: false; reason: string };

/** Splits a token into its fields; `undefined` when it is not a SAS token. */
export function parseSasToken(token: string): SasTokenFields | undefined {
  const prefix = 'SharedAccessSignature ';
  if (!token.startsWith(prefix)) return undefined;
  const fields = new Map<string, string>();
  for (const part of token.slice(prefix.length).split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const rawResource = fields.get('sr');
  const signature = fields.get('sig');
  const se = fields.get('se');
  const keyName = fields.get('skn');
  if (!rawResource || !signature || !se || !keyName || !/^\d+$/.test(se)) return undefined;
  try {
    return {
      resource: decodeURIComponent(rawResource),
      rawResource,
      signature: decodeURIComponent(signature),
      expirySeconds: Number(se),
      keyName: decodeURIComponent(keyName),
    };
  } catch {
    return undefined;
  }
}

/** An audience without scheme, case or trailing slash, for prefix comparison. */
export function normalizeAudience(uri: string): string {
  return uri
    .trim()
    .toLowerCase()
    .replace(/^(sb|amqps?|https?):\/\//, '')
    .replace(/\/+$/, '');
}

/**
 * True when a grant for `resource` covers `audience`: the same URI or a
 * path prefix of it (a namespace-wide token covers every entity).
 */
export function audienceCovers(resource: string, audience: string): boolean {
  const r = normalizeAudience(resource);
  const a = normalizeAudience(audience);
  return a === r || a.startsWith(`${r}/`);
}

/** The HMAC-SHA256 signature (base64) of `rawResource\nexpiry` with `key`. */
export function signSas(key: string, rawResource: string, expirySeconds: number): string {
  return createHmac('sha256', key).update(`${rawResource}\n${expirySeconds}`).digest('base64');
}

/**
 * Checks a `put-token` request's token against the namespace's key:
 * well-formed, signed with `key` under `keyName`, not expired, and for a
 * resource that covers the requested `audience`. With no key configured,
 * only the form, expiry and audience are checked (as Microsoft's emulator
 * accepts any key). Reasons name the rule, never the token or key.
 */
export function checkSasToken(
  token: string,
  audience: string,
  nowMs: number,
  credentials: { keyName: string; key: string } | undefined,
): SasTokenCheck {
  const fields = parseSasToken(token);
  if (!fields)
    return { ok: false, reason: 'MalformedToken: the token is not a SharedAccessSignature token.' };
  const expiresAtMs = fields.expirySeconds * 1000;
  if (expiresAtMs <= nowMs)
    return {
      ok: false,
      reason: `ExpiredToken: The token is expired. Expiration time: '${new Date(expiresAtMs).toISOString()}'.`,
    };
  if (!audienceCovers(fields.resource, audience))
    return {
      ok: false,
      reason: `InvalidAudience: The token's audience does not match the requested resource '${audience}'.`,
    };
  if (credentials) {
    if (fields.keyName !== credentials.keyName)
      return {
        ok: false,
        reason: `InvalidSignature: The token has an invalid signature (unknown key name).`,
      };
    const expected = Buffer.from(
      signSas(credentials.key, fields.rawResource, fields.expirySeconds),
    );
    const given = Buffer.from(fields.signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      return { ok: false, reason: 'InvalidSignature: The token has an invalid signature.' };
  }
  return { ok: true, resource: fields.resource, expiresAtMs };
}
