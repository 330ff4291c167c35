/**
 * `@tributary/emulator-adls` — an ADLS Gen2 (hierarchical namespace)
 * emulator for tests, the demo and the local Docker stack. Services never
 * import it.
 */
export {
  startAdlsEmulator,
  DEV_ACCOUNT_NAME,
  DEV_ACCOUNT_KEY,
  type AdlsEmulator,
  type AdlsEmulatorOptions,
  type PathInspection,
} from './emulator.ts';
export {
  FaultInjector,
  type FaultRule,
  type ActiveFaultRule,
  type HoldOutcome,
} from './faults/fault-injector.ts';
export { OPERATIONS, type OperationName } from './http/request.ts';
