import { Long, ObjectId, type Document } from 'bson';
import { CommandError } from '../errors/command-error.ts';
import { isPlainObject } from '../storage/bson-values.ts';
import type {
  CommandContext,
  CommandDefinition,
  ConnectionInfo,
} from '../server/command-context.ts';

/** MongoDB 8.0's wire version; the driver checks it to pick features. */
export const MAX_WIRE_VERSION = 25;
/** The server version the emulator reports in buildInfo. */
export const SERVER_VERSION = '8.0.4';

/** The handshake commands; a driver's monitor streams them (exhaustAllowed). */
export const HELLO_COMMAND_NAMES: ReadonlySet<string> = new Set(['hello', 'isMaster', 'ismaster']);

/**
 * Records the handshake's `client.application.name` on the connection. The
 * dispatcher calls it before the fail point check, so a failCommand with
 * `appName` already matches the handshake hello itself, as on the server
 * (the SDAM spec's handshake-error tests rely on that).
 */
export function rememberClientMetadata(command: Document, connection: ConnectionInfo): void {
  const client = command.client as Document | undefined;
  const application = client?.application as Document | undefined;
  if (typeof application?.name === 'string') connection.appName = application.name;
}

/** The hello/isMaster reply: this node is the primary of the single-member set `rs0`. */
function helloReply(context: CommandContext, legacy: boolean): Document {
  const { node, command } = context;
  const now = new Date();
  const opTime = { ts: node.clock.now(), t: Long.ONE };
  return {
    ...(command.helloOk === true ? { helloOk: true } : {}),
    topologyVersion: { processId: node.processId, counter: Long.fromNumber(node.topologyCounter) },
    hosts: [node.hostAndPort],
    setName: 'rs0',
    setVersion: 1,
    [legacy ? 'ismaster' : 'isWritablePrimary']: true,
    secondary: false,
    primary: node.hostAndPort,
    me: node.hostAndPort,
    electionId: ELECTION_ID,
    lastWrite: { opTime, lastWriteDate: now, majorityOpTime: opTime, majorityWriteDate: now },
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: now,
    logicalSessionTimeoutMinutes: node.sessions.logicalSessionTimeoutMinutes,
    connectionId: context.connection.id,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
  };
}

/** A primary's electionId: term 1, as a freshly initiated single-node set reports. */
const ELECTION_ID = ObjectId.createFromHexString('7fffffff0000000000000001');

/**
 * An awaitable hello (streaming SDAM): when the client already knows the
 * current topologyVersion, wait up to maxAwaitTimeMS for a change first.
 */
async function awaitTopologyChange(context: CommandContext): Promise<void> {
  const { command, node, signal } = context;
  const known = command.topologyVersion as Document | undefined;
  const maxAwait = command.maxAwaitTimeMS;
  if (!isPlainObject(known) || typeof maxAwait !== 'number') return;
  const sameProcess =
    known.processId instanceof Object && String(known.processId) === node.processId.toHexString();
  if (!sameProcess) return;
  await node.awaitTopologyChange(Number(known.counter), maxAwait, signal);
}

async function hello(context: CommandContext): Promise<Document> {
  await awaitTopologyChange(context);
  return helloReply(context, context.name !== 'hello');
}

/** Handshake, diagnostics and fault-injection commands. */
export const handshakeCommands: Record<string, CommandDefinition> = {
  hello: { handler: hello },
  isMaster: { handler: hello },
  ismaster: { handler: hello, canonicalName: 'isMaster' },
  ping: { handler: () => ({}), inTransaction: true },
  buildInfo: {
    handler: () => ({
      version: SERVER_VERSION,
      gitVersion: 'tributary-emulator',
      versionArray: SERVER_VERSION.split('.').map(Number).concat(0),
      bits: 64,
      debug: false,
      maxBsonObjectSize: 16 * 1024 * 1024,
      storageEngines: ['inMemory'],
      modules: [],
      javascriptEngine: 'none',
    }),
  },
  endSessions: {
    handler: ({ node, command }) => {
      if (Array.isArray(command.endSessions)) node.sessions.end(command.endSessions as Document[]);
      return {};
    },
  },
  getParameter: {
    handler: ({ command }) =>
      command.featureCompatibilityVersion
        ? { featureCompatibilityVersion: { version: '8.0' } }
        : {},
    adminOnly: true,
  },
  getCmdLineOpts: {
    handler: () => ({
      argv: ['mongod', '--replSet', 'rs0'],
      parsed: { replication: { replSet: 'rs0' } },
    }),
    adminOnly: true,
  },
  getLog: { handler: () => ({ totalLinesWritten: 0, log: [] }), adminOnly: true },
  hostInfo: {
    handler: () => ({
      system: { hostname: 'emulator', numCores: 1 },
      os: { type: 'emulator' },
      extra: {},
    }),
  },
  connectionStatus: {
    handler: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] } }),
  },
  whatsmyuri: { handler: ({ connection }) => ({ you: connection.remote }) },
  serverStatus: {
    handler: ({ node }) => ({
      host: node.hostAndPort,
      version: SERVER_VERSION,
      process: 'mongod',
      uptime: (Date.now() - node.startedAt.getTime()) / 1000,
      localTime: new Date(),
      connections: { current: node.connections.size },
      repl: { setName: 'rs0', isWritablePrimary: true, primary: node.hostAndPort },
    }),
  },
  replSetGetStatus: {
    handler: ({ node }) => {
      const optime = { ts: node.clock.now(), t: Long.ONE };
      const now = new Date();
      return {
        set: 'rs0',
        date: now,
        myState: 1,
        term: Long.ONE,
        members: [
          {
            _id: 0,
            name: node.hostAndPort,
            health: 1,
            state: 1,
            stateStr: 'PRIMARY',
            uptime: Math.floor((Date.now() - node.startedAt.getTime()) / 1000),
            optime,
            optimeDate: now,
            self: true,
          },
        ],
        optimes: { lastCommittedOpTime: optime, appliedOpTime: optime, durableOpTime: optime },
      };
    },
    adminOnly: true,
  },
  configureFailPoint: {
    handler: ({ node, command }) => node.failPoints.configure(command),
    adminOnly: true,
  },
  emulatorStepDown: {
    // Emulator-only: a real single-node set cannot be made to step down and come back on demand.
    handler: ({ node }) => {
      node.topologyCounter += 1;
      // After this reply is written: fail in-flight operations, then close every connection.
      setImmediate(() => node.stepDown());
      return {};
    },
    adminOnly: true,
  },
  replSetStepDown: {
    handler: () => {
      throw new CommandError(
        'NotWritablePrimary',
        'No electable secondaries caught up; use the emulatorStepDown command to simulate a step-down',
      );
    },
    adminOnly: true,
  },
};
