import type { Document } from 'bson';
import type { WriteScope } from '../storage/write-scope.ts';
import type { Transaction } from '../transactions/transaction.ts';
import type { ReplicaNode } from './replica-node.ts';

/** Facts about the connection a command arrived on. */
export interface ConnectionInfo {
  readonly id: number;
  /** `client.application.name` from the handshake (failCommand's `appName`). */
  appName: string | undefined;
  /** Remote address, for whatsmyuri. */
  readonly remote: string;
}

/** Everything a command handler may use. */
export interface CommandContext {
  readonly node: ReplicaNode;
  readonly command: Document;
  /** The command name as sent (first field). */
  readonly name: string;
  readonly db: string;
  readonly connection: ConnectionInfo;
  /** The transaction's scope inside a transaction, otherwise the catalog. */
  readonly scope: WriteScope;
  readonly transaction: Transaction | undefined;
  /** Aborted when the client disconnects or the node steps down. */
  readonly signal: AbortSignal;
}

/** A command implementation: returns the reply (without ok/$clusterTime, added by the dispatcher). */
export type CommandHandler = (context: CommandContext) => Document | Promise<Document>;

/** How the dispatcher treats a command. */
export interface CommandDefinition {
  handler: CommandHandler;
  /** May run inside a multi-document transaction. */
  inTransaction?: boolean;
  /** A write that may carry a retryable-write txnNumber. */
  retryableWrite?: boolean;
  /** Only valid against the admin database. */
  adminOnly?: boolean;
  /** The name an alias stands for (`ismaster` is `isMaster`): what failCommand's `failCommands` match. */
  canonicalName?: string;
  /** Fields the command accepts besides the generic ones; others fail with 40415 like the server's IDL parser. */
  fields?: readonly string[];
}
