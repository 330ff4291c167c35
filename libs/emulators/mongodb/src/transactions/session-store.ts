import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import type { Catalog } from '../storage/catalog.ts';
import { Transaction } from './transaction.ts';

/** Per logical session: its transaction and its last retryable write. */
interface SessionState {
  lsid: Document;
  txnNumber: number;
  transaction: Transaction | undefined;
  /** Reply of the last retryable write, answered again when the driver retries it. */
  retryReply: { txnNumber: number; reply: Document } | undefined;
}

function sessionKey(lsid: Document): string {
  const id = lsid.id as { toString(encoding: string): string } | undefined;
  return id ? id.toString('hex') : JSON.stringify(lsid);
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value && typeof (value as { toNumber?: unknown }).toNumber === 'function')
    return (value as { toNumber(): number }).toNumber();
  throw new CommandError(
    'TypeMismatch',
    "BSON field 'txnNumber' is the wrong type, expected type 'long'",
  );
}

/**
 * Logical sessions as the server tracks them: transaction numbers only go
 * up, a transaction is started by `startTransaction: true` and continued by
 * `autocommit: false` with the same number.
 */
export class SessionStore {
  readonly #sessions = new Map<string, SessionState>();
  readonly #catalog: Catalog;

  constructor(catalog: Catalog) {
    this.#catalog = catalog;
  }

  #session(lsid: Document): SessionState {
    const key = sessionKey(lsid);
    let state = this.#sessions.get(key);
    if (!state) {
      state = { lsid, txnNumber: -1, transaction: undefined, retryReply: undefined };
      this.#sessions.set(key, state);
    }
    return state;
  }

  /** The transaction a command with `autocommit: false` runs in (starting it if asked). */
  transactionFor(command: Document): Transaction {
    const lsid = command.lsid as Document | undefined;
    if (!lsid)
      throw new CommandError('InvalidOptions', 'Transaction requires a logical session id');
    const txnNumber = toNumber(command.txnNumber);
    const session = this.#session(lsid);
    if (txnNumber < session.txnNumber) {
      throw new CommandError(
        'TransactionTooOld',
        `Cannot start transaction ${txnNumber} on session because a newer transaction ${session.txnNumber} has already started.`,
      );
    }
    if (command.startTransaction === true) {
      if (txnNumber === session.txnNumber && session.transaction) {
        throw new CommandError(
          'ConflictingUpdateOperators',
          `Transaction with { txnNumber: ${txnNumber} } has already been started.`,
        );
      }
      if (session.transaction?.state === 'inProgress') session.transaction.state = 'aborted';
      session.txnNumber = txnNumber;
      session.transaction = new Transaction(this.#catalog, lsid, txnNumber);
      return session.transaction;
    }
    const transaction = session.transaction;
    if (!transaction || txnNumber !== session.txnNumber || transaction.txnNumber !== txnNumber) {
      throw new CommandError(
        'NoSuchTransaction',
        `Given transaction number ${txnNumber} does not match any in-progress transactions.`,
        { labels: ['TransientTransactionError'] },
      );
    }
    return transaction;
  }

  /** A cached reply when this retryable write already ran (same lsid and txnNumber). */
  retriedWrite(command: Document): Document | undefined {
    if (!command.lsid || command.txnNumber === undefined) return undefined;
    const session = this.#session(command.lsid as Document);
    const txnNumber = toNumber(command.txnNumber);
    if (session.retryReply && session.retryReply.txnNumber === txnNumber)
      return session.retryReply.reply;
    return undefined;
  }

  /** Remembers a retryable write's reply. */
  rememberWrite(command: Document, reply: Document): void {
    if (!command.lsid || command.txnNumber === undefined) return;
    const session = this.#session(command.lsid as Document);
    const txnNumber = toNumber(command.txnNumber);
    session.txnNumber = Math.max(session.txnNumber, txnNumber);
    session.retryReply = { txnNumber, reply };
  }

  /** Forgets sessions (endSessions); their open transactions are aborted. */
  end(lsids: Document[]): void {
    for (const lsid of lsids) {
      const key = sessionKey(lsid);
      const state = this.#sessions.get(key);
      if (state?.transaction?.state === 'inProgress') state.transaction.state = 'aborted';
      this.#sessions.delete(key);
    }
  }
}
