import { Long, type Document, type Timestamp } from 'bson';
import { adminCommands } from '../commands/admin-commands.ts';
import { clientBulkWriteCommands } from '../commands/client-bulk-write.ts';
import {
  handshakeCommands,
  HELLO_COMMAND_NAMES,
  rememberClientMetadata,
} from '../commands/handshake-commands.ts';
import { readCommands } from '../commands/read-commands.ts';
import { writeCommands } from '../commands/write-commands.ts';
import { CommandError, isCommandError } from '../errors/command-error.ts';
import { errorLabelsFor, type LabelledFailure } from '../errors/error-labels.ts';
import { validateDbName } from '../storage/catalog.ts';
import { isPlainObject } from '../storage/bson-values.ts';
import { checkAllowedInTransaction } from '../transactions/allowed-in-transaction.ts';
import type { Transaction } from '../transactions/transaction.ts';
import type { CommandDefinition, ConnectionInfo } from './command-context.ts';
import type { ReplicaNode } from './replica-node.ts';
import {
  checkReadConcernInTransaction,
  checkSnapshotOutsideTransaction,
  parseReadConcern,
  waitForReadConcern,
} from './read-concern.ts';
import {
  checkWriteConcernAllowed,
  parseWriteConcern,
  writeConcernErrorFor,
} from './write-concern.ts';

const COMMANDS: Record<string, CommandDefinition> = {
  ...handshakeCommands,
  ...readCommands,
  ...writeCommands,
  ...adminCommands,
  ...clientBulkWriteCommands,
};

/** "Not primary" and "shutting down" codes: the reply carries topologyVersion so drivers can tell stale errors. */
const STATE_CHANGE_CODES = new Set([91, 189, 10058, 10107, 11600, 11602, 13435, 13436]);

/** Fields every command may carry (sessions, transactions, gossip, API versioning). */
const GENERIC_FIELDS = new Set([
  '$db',
  'lsid',
  'txnNumber',
  'autocommit',
  'startTransaction',
  '$clusterTime',
  '$readPreference',
  'readConcern',
  'writeConcern',
  'comment',
  'maxTimeMS',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
  '$client',
  'bypassDocumentValidation',
  'mayBypassWriteBlocking',
  'rawData',
  'maxTimeMSOpOnly',
]);

function checkFields(name: string, command: Document, allowed: readonly string[]): void {
  const keys = Object.keys(command);
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    if (!GENERIC_FIELDS.has(key) && !allowed.includes(key)) {
      throw new CommandError(
        'UnknownBsonField',
        `BSON field '${name}.${key}' is an unknown field.`,
      );
    }
  }
}

/** What the connection does with a dispatched command. */
export interface DispatchResult {
  reply: Document;
  /** failCommand's closeConnection: drop the socket without replying. */
  closeConnection?: boolean;
}

/** Where a request came from. */
export interface DispatchInput {
  command: Document;
  /** Database for OP_QUERY requests (OP_MSG carries `$db`). */
  legacyDb?: string;
  connection: ConnectionInfo;
  signal: AbortSignal;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Routes one command: name and database checks, the failCommand fail point,
 * transactions and retryable writes, then the handler; decorates the reply
 * with `ok`, `$clusterTime` and `operationTime`, and turns every failure into
 * the server's error reply (never an exception that could crash the node).
 */
export async function dispatch(node: ReplicaNode, input: DispatchInput): Promise<DispatchResult> {
  const { command, connection, signal } = input;
  const name = Object.keys(command)[0] ?? '';
  /** failCommand's `errorLabels`: they replace whatever the server would have labelled. */
  let labelsOverride: string[] | undefined;
  let canonicalName = name;
  let isRetryableWrite = false;
  let transaction: Transaction | undefined;
  const ending = name === 'commitTransaction' || name === 'abortTransaction';
  let isChangeStreamGetMore = false;
  /** The failure was injected by failCommand, before any cursor was checked out. */
  let beforeCheckout = false;
  try {
    const definition = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!definition) throw new CommandError('CommandNotFound', `no such command: '${name}'`);
    const rawDb = command.$db ?? input.legacyDb;
    if (rawDb === undefined)
      throw CommandError.fromCode(40571, 'OP_MSG requests require a $db argument');
    const db = validateDbName(rawDb);
    if (definition.adminOnly && db !== 'admin') {
      throw new CommandError('Unauthorized', `${name} may only be run against the admin database.`);
    }
    canonicalName = definition.canonicalName ?? name;
    if (definition.fields) checkFields(name, command, definition.fields);
    if (isPlainObject(command.lsid)) node.sessions.touch(command.lsid);
    // Generic arguments are parsed with the command, before anything runs.
    const writeConcern = parseWriteConcern(name, command);
    const readConcern = parseReadConcern(command);
    if (name === 'getMore')
      isChangeStreamGetMore = node.cursors.get(command.getMore ?? 0)?.isChangeStream ?? false;
    if (HELLO_COMMAND_NAMES.has(name)) rememberClientMetadata(command, connection);
    const fault =
      name === 'configureFailPoint'
        ? undefined
        : node.failPoints.failCommand.check(canonicalName, connection.appName);
    if (fault) {
      labelsOverride = fault.errorLabels;
      if (fault.blockTimeMS > 0) await sleep(fault.blockTimeMS, signal);
      if (fault.closeConnection) return { reply: {}, closeConnection: true };
      if (fault.errorCode !== undefined) {
        // Before the cursor is checked out: the server's change-stream
        // machinery never sees it, so it adds no ResumableChangeStreamError.
        beforeCheckout = true;
        throw CommandError.fromCode(
          fault.errorCode,
          `Failing command ${name} via 'failCommand' failpoint`,
        );
      }
    }
    if (name === 'getMore' && node.cursors.get(command.getMore ?? 0)) {
      const afterCheckout = node.failPoints.failGetMoreAfterCursorCheckout.check(
        'getMore',
        connection.appName,
      );
      if (afterCheckout?.closeConnection) return { reply: {}, closeConnection: true };
      if (afterCheckout?.errorCode !== undefined)
        // Labelled below as the server labels a real failure of this getMore.
        throw CommandError.fromCode(
          afterCheckout.errorCode,
          "Failing getMore via 'failGetMoreAfterCursorCheckout' failpoint",
        );
    }
    const inTransaction = command.autocommit === false;
    checkWriteConcernAllowed(canonicalName, writeConcern, command, inTransaction);
    if (inTransaction) {
      checkAllowedInTransaction(name, definition, db, command);
      // Refused before the transaction is touched: it stays open, as on the server.
      checkReadConcernInTransaction(readConcern, command.startTransaction === true);
      transaction = node.sessions.transactionFor(command);
      if (!ending && transaction.state !== 'inProgress') {
        throw new CommandError(
          'NoSuchTransaction',
          `Transaction with { txnNumber: ${transaction.txnNumber} } has been ${transaction.state}.`,
        );
      }
    } else if (name === 'commitTransaction' || name === 'abortTransaction') {
      throw new CommandError('InvalidOptions', `'${name}' must be run with autocommit: false`);
    } else checkSnapshotOutsideTransaction(canonicalName, readConcern);
    const snapshotTime = waitForReadConcern(readConcern, {
      now: node.clock.now(),
      lastWrite: node.clock.lastWrite(),
    });
    isRetryableWrite = Boolean(
      definition.retryableWrite && !transaction && command.txnNumber !== undefined,
    );
    if (isRetryableWrite) {
      const previous = node.sessions.retriedWrite(command);
      if (previous) return { reply: decorate(node, previous) };
    }
    const result = await definition.handler({
      node,
      command,
      name,
      db,
      connection,
      scope: transaction ?? node.direct,
      transaction,
      signal,
    });
    // Stored numbers get their BSON types back as the reply is encoded (bson-writer.ts).
    const reply: Document = { ...result, ok: 1 };
    if (snapshotTime && !transaction) reportSnapshotTime(reply, snapshotTime);
    // A retry is answered from history and waits for write concern anew: the error is not part of what is remembered.
    if (isRetryableWrite) node.sessions.rememberWrite(command, { ...reply });
    const writeConcernError =
      fault?.writeConcernError ??
      (transaction && !ending ? undefined : writeConcernErrorFor(canonicalName, writeConcern));
    if (writeConcernError) {
      reply.writeConcernError = writeConcernError;
      const labels =
        labelsOverride ??
        errorLabelsFor({
          ...sessionOptionsOf(command, canonicalName),
          writeConcernCode: Number(writeConcernError.code),
          inChangeStream: false,
        });
      if (labels.length > 0) reply.errorLabels = labels;
    }
    return { reply: decorate(node, reply) };
  } catch (error) {
    const failure = isCommandError(error) ? error : internalError(error);
    if (
      transaction &&
      failure.code !== 251 &&
      !['commitTransaction', 'abortTransaction'].includes(name)
    )
      transaction.abort();
    const reply = failure.toReply();
    if (STATE_CHANGE_CODES.has(failure.code)) {
      reply.topologyVersion = {
        processId: node.processId,
        counter: Long.fromNumber(node.topologyCounter),
      };
    }
    const labels =
      labelsOverride ??
      errorLabelsFor({
        ...sessionOptionsOf(command, canonicalName),
        code: failure.code,
        inChangeStream: isChangeStreamGetMore && !beforeCheckout,
      });
    if (labels.length > 0) reply.errorLabels = labels;
    return { reply: decorate(node, reply) };
  }
}

/** What the server's labelling reads of a command: its name and session options. */
function sessionOptionsOf(
  command: Document,
  commandName: string,
): Pick<LabelledFailure, 'commandName' | 'hasTxnNumber' | 'hasAutocommit'> {
  return {
    commandName,
    hasTxnNumber: command.txnNumber !== undefined,
    hasAutocommit: command.autocommit !== undefined,
  };
}

/**
 * A snapshot read outside a transaction answers the time it read at
 * (`cursor.atClusterTime`, or `atClusterTime` for distinct), which the
 * driver's snapshot session sends back on its later reads.
 */
function reportSnapshotTime(reply: Document, atClusterTime: Timestamp): void {
  if (isPlainObject(reply.cursor)) reply.cursor = { ...reply.cursor, atClusterTime };
  else reply.atClusterTime = atClusterTime;
}

function internalError(error: unknown): CommandError {
  // An unexpected failure is a bug in the emulator; report it rather than crash the node.
  console.error('[emulator-mongodb] internal error:', error);
  return new CommandError('InternalError', error instanceof Error ? error.message : String(error));
}

function decorate(node: ReplicaNode, reply: Document): Document {
  return { ...reply, $clusterTime: node.clusterTimeDocument(), operationTime: node.clock.now() };
}
