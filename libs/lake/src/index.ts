export type {
  AppendOptions,
  CreateOptions,
  Lake,
  LakeEntry,
  LakeFileState,
  WriteCondition,
} from './lake.ts';
export { LakeError, isLakeError, type LakeErrorCode } from './lake-error.ts';
export { createLocalLake, type LocalLakeOptions } from './local/local-lake.ts';
export { createMemoryLake } from './memory/memory-lake.ts';
export { accountNameOf, createLakeFromConfig, type LakeSettings } from './lake-from-config.ts';
export {
  STATE_PREFIX,
  compareWithSource,
  inventoryLake,
  type FileInventory,
  type LakeInventory,
  type SourceComparison,
} from './verification/lake-inventory.ts';
export {
  LAKE_CHECKS,
  scanLake,
  type LakeCheck,
  type LakeFinding,
  type LakeScan,
  type LakeScanOptions,
  type LakeScanProgress,
  type NamespaceTally,
  type ScannedFile,
  type ScannedLine,
} from './verification/lake-scan.ts';
export { KeyLedger, tokenHash, type LedgerEntry } from './verification/key-ledger.ts';
export {
  DEFAULT_CHUNK_BYTES,
  committedLines,
  type CommittedLine,
} from './verification/committed-lines.ts';
export { parseDataFileName, type DataFileName } from './verification/data-file-name.ts';
export {
  UNKNOWN_NAMESPACE,
  namespaceName,
  namespaceOfDirectory,
} from './verification/namespace-names.ts';
export { createAdlsLake } from './adls/adls-lake.ts';
export type { AdlsLakeOptions } from './adls/adls-client.ts';
export { lakeCodeOfAdlsFailure, type AdlsFailureFacts } from './adls/adls-error.ts';
export { isReservedPath } from './paths/lake-path.ts';
