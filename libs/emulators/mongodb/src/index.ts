/**
 * `@tributary/emulator-mongodb`: a single-node MongoDB replica set (`rs0`)
 * speaking the real wire protocol, for tests and the demo. Services never
 * import it.
 */
export { startMongoEmulator, type MongoEmulator, type MongoEmulatorOptions } from './emulator.ts';
export type { OplogRecord } from './oplog/oplog-record.ts';
export type { OplogOperation, UpdateDescription } from './oplog/oplog.ts';
