import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { isPlainObject } from '../storage/bson-values.ts';

/** What `failCommand` does to a command it catches. */
export interface FailCommandAction {
  errorCode?: number;
  errorLabels?: string[];
  closeConnection: boolean;
  blockTimeMS: number;
  writeConcernError?: Document;
}

type Mode =
  | { kind: 'off' }
  | { kind: 'alwaysOn' }
  | { kind: 'times'; remaining: number }
  | { kind: 'skip'; remaining: number };

/**
 * A fail point of the server's (`configureFailPoint`), with the modes and
 * data fields of the real one (see the server's "Fail points" testing
 * documentation), so fault tests run unchanged against a real mongod
 * started with enableTestCommands:
 *
 * - `failCommand` catches the commands its `failCommands` names, before any
 *   work — for a `getMore`, before the cursor is checked out, so the error
 *   carries no `ResumableChangeStreamError` unless `errorLabels` says so;
 * - `failGetMoreAfterCursorCheckout` fails a `getMore` once its cursor is
 *   checked out, where the server labels the error as it would a real one
 *   (a resumable code on a change stream gets `ResumableChangeStreamError`).
 *   MongoDB's change-stream resume tests use it for that reason (SERVER-46091).
 */
export class FailPoint {
  readonly name: string;
  #mode: Mode = { kind: 'off' };
  #data: Document = {};
  #timesEntered = 0;

  constructor(name: 'failCommand' | 'failGetMoreAfterCursorCheckout') {
    this.name = name;
  }

  /** Applies a `configureFailPoint` command naming this fail point; returns the reply. */
  configure(command: Document): Document {
    const mode = command.mode;
    const previous = this.#timesEntered;
    let next: Mode;
    if (mode === 'off') next = { kind: 'off' };
    else if (mode === 'alwaysOn') next = { kind: 'alwaysOn' };
    else if (isPlainObject(mode) && typeof mode.times === 'number')
      next = mode.times > 0 ? { kind: 'times', remaining: mode.times } : { kind: 'off' };
    else if (isPlainObject(mode) && typeof mode.skip === 'number')
      next = { kind: 'skip', remaining: mode.skip };
    else
      throw new CommandError(
        'TypeMismatch',
        "'mode' must be one of 'off', 'alwaysOn', {times: n} or {skip: n}",
      );
    const data = command.data;
    // Validate everything before changing anything: a rejected command leaves the fail point as it was.
    if (
      next.kind !== 'off' &&
      this.name === 'failCommand' &&
      (!isPlainObject(data) || !Array.isArray(data.failCommands))
    ) {
      throw new CommandError('InvalidOptions', "'data' must contain a 'failCommands' array");
    }
    if (
      next.kind !== 'off' &&
      this.name === 'failGetMoreAfterCursorCheckout' &&
      (!isPlainObject(data) || typeof data.errorCode !== 'number')
    ) {
      throw new CommandError('InvalidOptions', "'data' must contain a numeric 'errorCode'");
    }
    this.#mode = next;
    if (next.kind !== 'off') this.#data = data as Document;
    this.#timesEntered = 0;
    return { count: previous, ok: 1 };
  }

  /** Returns the action for this command if the fail point fires for it (and counts the firing). */
  check(commandName: string, appName: string | undefined): FailCommandAction | undefined {
    if (this.#mode.kind === 'off') return undefined;
    const data = this.#data;
    const caught =
      this.name === 'failCommand'
        ? (data.failCommands as string[]).includes(commandName)
        : commandName === 'getMore';
    if (!caught) return undefined;
    if (typeof data.appName === 'string' && data.appName !== appName) return undefined;
    if (this.#mode.kind === 'skip') {
      if (this.#mode.remaining > 0) {
        this.#mode.remaining -= 1;
        return undefined;
      }
    }
    if (this.#mode.kind === 'times') {
      this.#mode.remaining -= 1;
      if (this.#mode.remaining <= 0) this.#mode = { kind: 'off' };
    }
    this.#timesEntered += 1;
    return {
      ...(typeof data.errorCode === 'number' ? { errorCode: data.errorCode } : {}),
      ...(Array.isArray(data.errorLabels) ? { errorLabels: data.errorLabels as string[] } : {}),
      ...(isPlainObject(data.writeConcernError)
        ? { writeConcernError: data.writeConcernError }
        : {}),
      closeConnection: data.closeConnection === true,
      blockTimeMS:
        data.blockConnection === true && typeof data.blockTimeMS === 'number'
          ? data.blockTimeMS
          : 0,
    };
  }
}

/** The fail points a node has, by the name `configureFailPoint` gives. */
export class FailPoints {
  readonly failCommand = new FailPoint('failCommand');
  readonly failGetMoreAfterCursorCheckout = new FailPoint('failGetMoreAfterCursorCheckout');

  /** Routes a `configureFailPoint` command to its fail point. */
  configure(command: Document): Document {
    const name = command.configureFailPoint;
    if (name === 'failCommand') return this.failCommand.configure(command);
    if (name === 'failGetMoreAfterCursorCheckout')
      return this.failGetMoreAfterCursorCheckout.configure(command);
    throw new CommandError('FailedToParse', `Unknown fail point: ${String(name)}`);
  }
}
