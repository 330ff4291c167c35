import type { Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import type { Catalog } from '../storage/catalog.ts';
import type { DocumentLocks } from './document-locks.ts';
import { Transaction } from './transaction.ts';

/** How long sessions and transactions may live, as the server's parameters of the same meaning. */
export interface SessionLimits {
  /** A session unused this long is forgotten (logicalSessionTimeoutMinutes; 30 minutes). */
  logicalSessionTimeoutMs: number;
  /** A transaction open this long is aborted (transactionLifetimeLimitSeconds; 60 s). */
  transactionLifetimeLimitMs: number;
}

/** The server's defaults. */
export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  logicalSessionTimeoutMs: 30 * 60 * 1000,
  transactionLifetimeLimitMs: 60 * 1000,
};

/** Per logical session: its transaction and its last retryable write. */
interface SessionState {
  lsid: Document;
  /** Last time a command used the session, for the idle timeout. */
  lastUsed: number;
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
 * `autocommit: false` with the same number. Like the server, the store
 * aborts transactions that outlive transactionLifetimeLimitSeconds (a
 * client that went away never commits) and forgets sessions idle longer
 * than logicalSessionTimeoutMinutes, so abandoned sessions cost no memory.
 */
export class SessionStore {
  readonly #sessions = new Map<string, SessionState>();
  readonly #catalog: Catalog;
  readonly #locks: DocumentLocks;
  readonly #limits: SessionLimits;
  readonly #reaper: NodeJS.Timeout;

  constructor(
    catalog: Catalog,
    locks: DocumentLocks,
    limits: SessionLimits = DEFAULT_SESSION_LIMITS,
  ) {
    this.#catalog = catalog;
    this.#locks = locks;
    this.#limits = limits;
    const shortest = Math.min(limits.logicalSessionTimeoutMs, limits.transactionLifetimeLimitMs);
    // Checking at half the shortest limit bounds how long past its limit anything lives.
    const period = Math.min(30_000, Math.max(10, Math.floor(shortest / 2)));
    this.#reaper = setInterval(() => this.#expire(), period);
    // The reaper must never keep a test process or the CLI alive on its own.
    this.#reaper.unref();
  }

  /** The session timeout hello reports, in whole minutes (drivers expect an integer). */
  get logicalSessionTimeoutMinutes(): number {
    return Math.max(1, Math.round(this.#limits.logicalSessionTimeoutMs / 60_000));
  }

  #session(lsid: Document): SessionState {
    const key = sessionKey(lsid);
    let state = this.#sessions.get(key);
    if (!state) {
      state = {
        lsid,
        lastUsed: Date.now(),
        txnNumber: -1,
        transaction: undefined,
        retryReply: undefined,
      };
      this.#sessions.set(key, state);
    }
    state.lastUsed = Date.now();
    return state;
  }

  /** Aborts transactions past their lifetime and forgets idle sessions (the reaper runs it). */
  #expire(now = Date.now()): void {
    const { logicalSessionTimeoutMs, transactionLifetimeLimitMs } = this.#limits;
    for (const [key, session] of this.#sessions) {
      const transaction = session.transaction;
      const open = transaction?.state === 'inProgress';
      if (open && now - transaction.startedAt > transactionLifetimeLimitMs) transaction.abort();
      if (now - session.lastUsed > logicalSessionTimeoutMs) {
        if (transaction?.state === 'inProgress') transaction.abort();
        this.#sessions.delete(key);
      }
    }
  }

  /**
   * Records that a command used the session: the server's logical session
   * cache takes in every lsid it sees, not only those of transactions and
   * retryable writes.
   */
  touch(lsid: Document): void {
    this.#session(lsid);
  }

  /** The sessions the node knows, with their last use ($listLocalSessions). */
  list(): Array<{ lsid: Document; lastUsed: number }> {
    return [...this.#sessions.values()].map(({ lsid, lastUsed }) => ({ lsid, lastUsed }));
  }

  /** Stops the reaper (part of the emulator's shutdown). */
  close(): void {
    clearInterval(this.#reaper);
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
      if (session.transaction?.state === 'inProgress') session.transaction.abort();
      session.txnNumber = txnNumber;
      session.transaction = new Transaction(this.#catalog, this.#locks, lsid, txnNumber);
      return session.transaction;
    }
    const transaction = session.transaction;
    if (!transaction || txnNumber !== session.txnNumber || transaction.txnNumber !== txnNumber) {
      throw new CommandError(
        'NoSuchTransaction',
        `Given transaction number ${txnNumber} does not match any in-progress transactions.`,
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
      if (state?.transaction?.state === 'inProgress') state.transaction.abort();
      this.#sessions.delete(key);
    }
  }
}
