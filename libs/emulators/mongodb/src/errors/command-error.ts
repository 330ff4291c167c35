import type { Document } from 'bson';
import { ERROR_CODES, codeNameOf, type ErrorCodeName } from './error-codes.ts';

/**
 * A command failure answered to the client as `{ ok: 0, errmsg, code, codeName }`,
 * the shape the real server uses, so the driver raises the same `MongoServerError`.
 */
export class CommandError extends Error {
  /** Numeric server error code (e.g. 59 for CommandNotFound). */
  readonly code: number;
  /** The server's codeName for `code`. */
  readonly codeName: string;
  /** Extra fields copied into the reply (e.g. `keyValue` for duplicate keys). */
  readonly extra: Document;

  constructor(name: ErrorCodeName, message: string, options: { extra?: Document } = {}) {
    super(message);
    this.name = 'CommandError';
    this.code = ERROR_CODES[name];
    this.codeName = codeNameOf(name);
    this.extra = options.extra ?? {};
  }

  /** Builds an error from a raw code, as `configureFailPoint` asks for arbitrary codes. */
  static fromCode(code: number, message: string): CommandError {
    const entry = Object.entries(ERROR_CODES).find(([, value]) => value === code);
    const error = new CommandError('InternalError', message);
    Object.defineProperty(error, 'code', { value: code });
    Object.defineProperty(error, 'codeName', {
      value: entry ? codeNameOf(entry[0] as ErrorCodeName) : `Location${code}`,
    });
    return error;
  }

  /** The `{ ok: 0, ... }` reply document. */
  toReply(): Document {
    const reply: Document = {
      ok: 0,
      errmsg: this.message,
      code: this.code,
      codeName: this.codeName,
    };
    return { ...reply, ...this.extra };
  }
}

/** True when `value` is a {@link CommandError}. */
export function isCommandError(value: unknown): value is CommandError {
  return value instanceof CommandError;
}
