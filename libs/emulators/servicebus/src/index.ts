/**
 * `@tributary/emulator-servicebus` — an Azure Service Bus emulator speaking
 * AMQP 1.0 as the official `@azure/service-bus` SDK expects, for tests, the
 * demo and the local Docker stack. Services never import it.
 */
export {
  startServiceBusEmulator,
  DEFAULT_KEY,
  DEFAULT_KEY_NAME,
  type ServiceBusEmulator,
  type ServiceBusEmulatorOptions,
  type QueueInspection,
} from './emulator.ts';
export {
  FaultInjector,
  type FaultRule,
  type ActiveFaultRule,
  type BusyOperation,
} from './faults/fault-injector.ts';
export { DEFAULT_QUEUE_PROPERTIES, type QueueProperties } from './config/queue-properties.ts';
export { entitiesFromConfig, loadConfigFile, type EntityConfig } from './config/config-file.ts';
export {
  EmulatorError,
  isEmulatorError,
  type EmulatorErrorCode,
  type AmqpCondition,
} from './emulator-error.ts';
export type { QueueCounts } from './broker/queue-entity.ts';
