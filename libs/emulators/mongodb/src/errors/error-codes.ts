/**
 * The MongoDB server error codes the emulator answers with, by codeName.
 * Values follow the server's `src/mongo/base/error_codes.yml`; only codes the
 * emulator can actually produce are listed, so a typo fails type checking.
 */
export const ERROR_CODES = {
  InternalError: 1,
  BadValue: 2,
  NoSuchKey: 4,
  FailedToParse: 9,
  TypeMismatch: 14,
  InvalidLength: 16,
  IllegalOperation: 20,
  InvalidBSON: 22,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  NamespaceExists: 48,
  MaxTimeMSExpired: 50,
  DollarPrefixedFieldName: 52,
  InvalidIdField: 53,
  NoMatchingDocument: 47,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  OperationFailed: 96,
  NoSuchTransaction: 251,
  OperationNotSupportedInTransaction: 263,
  Unauthorized: 13,
  CursorInUse: 292,
  TransactionTooOld: 225,
  InvalidResumeToken: 260,
  ChangeStreamFatalError: 280,
  ChangeStreamHistoryLost: 286,
  WriteConflict: 112,
  SnapshotTooOld: 239,
  Location40324: 40324,
  Location40674: 40674,
  Location40602: 40602,
  Location40414: 40414,
  Location16866: 16866,
  Location16867: 16867,
  Location16868: 16868,
  Location51198: 51198,
  InvalidPipelineOperator: 168,
  UnknownBsonField: 40415,
  UnsupportedOpQueryCommand: 352,
  NotWritablePrimary: 10107,
  BSONObjectTooLarge: 10334,
  Location17419: 17419,
  Location17420: 17420,
  Location17217: 17217,
  InterruptedDueToReplStateChange: 11602,
  DuplicateKey: 11000,
  DocumentValidationFailure: 121,
  CommandNotSupportedOnView: 166,
  OptionNotSupportedOnView: 167,
  ViewDepthLimitExceeded: 165,
  CollectionUUIDMismatch: 361,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
} as const;

/** A server error code name the emulator can produce. */
export type ErrorCodeName = keyof typeof ERROR_CODES;

/** Code names as the server spells them in `codeName` (a few are "Location<code>"). */
export function codeNameOf(name: ErrorCodeName): string {
  if (name === 'UnknownBsonField') return 'Location40415';
  return name;
}
