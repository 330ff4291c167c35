/** Replaces what it hides. */
export const REDACTED = '[REDACTED]';

/**
 * Patterns of credentials that may appear inside any text: passwords in
 * connection URIs (`mongodb://user:pw@`, `redis://:pw@`), storage and Service
 * Bus keys in connection strings, and SAS signatures in URLs.
 */
const SECRET_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^@/?#\s]*@/gi, `$1:${REDACTED}@`],
  [
    /((?:AccountKey|SharedAccessKey|SharedAccessSignature|AccessKey|Password|Pwd)\s*=\s*)[^;\s"']+/gi,
    `$1${REDACTED}`,
  ],
  [/([?&](?:sig|signature|password)=)[^&\s"']+/gi, `$1${REDACTED}`],
  [/(Authorization["']?\s*[:=]\s*["']?(?:SharedKey|Bearer|Basic)\s+)[^\s"',}]+/gi, `$1${REDACTED}`],
];

/**
 * Hides secrets in text and in structured log records: every value
 * registered as secret (the configuration's credentials) wherever it occurs,
 * and anything that looks like a credential.
 */
export class SecretRedactor {
  readonly #secrets = new Set<string>();

  constructor(secrets: Iterable<string> = []) {
    for (const secret of secrets) this.register(secret);
  }

  /** Hides this exact value from now on. Very short values are ignored (they would mask ordinary words). */
  register(secret: string): void {
    if (secret.length >= 4) this.#secrets.add(secret);
  }

  /** The text with every secret replaced. */
  redactText(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is hidden whole.
    for (const secret of [...this.#secrets].sort((a, b) => b.length - a.length)) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
    return out;
  }

  /**
   * A copy of `value` with every string redacted; errors become plain objects
   * (type, message, code, stack, cause) so nothing escapes through them.
   */
  redactValue(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.redactText(value);
    if (value === null || typeof value !== 'object' || depth > 8) return value;
    if (value instanceof Error) {
      const plain: Record<string, unknown> = {
        type: value.name,
        message: this.redactText(value.message),
      };
      const code = (value as { code?: unknown }).code;
      if (code !== undefined) plain.code = code;
      if (value.stack) plain.stack = this.redactText(value.stack);
      if (value.cause !== undefined) plain.cause = this.redactValue(value.cause, depth + 1);
      return plain;
    }
    if (Array.isArray(value)) return value.map((v) => this.redactValue(v, depth + 1));
    if (value instanceof Date || Buffer.isBuffer(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = this.redactValue(v, depth + 1);
    return out;
  }
}
