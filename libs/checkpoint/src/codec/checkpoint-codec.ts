import { isOrderingKey } from '@tributary/core';
import { EJSON, type Document } from 'bson';
import { CheckpointError } from '../checkpoint-error.ts';
import type {
  CaptureOrigin,
  CapturePresence,
  GapReport,
  OpenFileRecord,
  PartitionCheckpoint,
  ResumeOverride,
} from '../checkpoint-store.ts';
import { asDate, asDocument, asSafeInteger, asTimestamp } from './bson-values.ts';

/**
 * The stored format's version. A reader refuses any other, so a store
 * written by a newer release is reported as `CORRUPT` instead of misread.
 */
export const CHECKPOINT_FORMAT_VERSION = 1;

type Kind =
  'partition-checkpoint' | 'capture-origin' | 'gap-report' | 'capture-presence' | 'resume-override';

/**
 * Every store keeps its documents as canonical MongoDB Extended JSON
 * (https://www.mongodb.com/docs/manual/reference/mongodb-extended-json/),
 * so a resume token and a BSON Timestamp come back with their exact BSON
 * types, which the change stream needs to resume.
 */
function encode(kind: Kind, value: object): string {
  return EJSON.stringify({ format: CHECKPOINT_FORMAT_VERSION, kind, value }, { relaxed: false });
}

class Corrupt extends CheckpointError {
  constructor(what: string, reason: string, cause?: unknown) {
    super('CORRUPT', `The stored ${what} cannot be read: ${reason}.`, { cause });
  }
}

function decode(kind: Kind, what: string, text: string): Document {
  let envelope: Document | undefined;
  try {
    envelope = asDocument(EJSON.parse(text, { relaxed: false }));
  } catch (error) {
    throw new Corrupt(what, 'not Extended JSON', error);
  }
  if (envelope === undefined) throw new Corrupt(what, 'not a document');
  const format = asSafeInteger(envelope.format);
  if (format !== CHECKPOINT_FORMAT_VERSION)
    throw new Corrupt(
      what,
      `format ${String(format ?? envelope.format)}, expected ${CHECKPOINT_FORMAT_VERSION}`,
    );
  if (envelope.kind !== kind) throw new Corrupt(what, `it holds a ${String(envelope.kind)}`);
  const value = asDocument(envelope.value);
  if (value === undefined) throw new Corrupt(what, 'no value');
  return value;
}

/**
 * Encodes a partition checkpoint for storage, and reads it back first: a
 * checkpoint that would not decode is refused here rather than stored,
 * where it would stop the partition's next owner.
 *
 * @throws CheckpointError `CORRUPT` when the checkpoint is not valid.
 */
export function encodePartitionCheckpoint(checkpoint: PartitionCheckpoint): string {
  const text = encode('partition-checkpoint', checkpoint);
  decodePartitionCheckpoint(text, checkpoint.partition);
  return text;
}

/**
 * Decodes and validates a stored partition checkpoint.
 *
 * @param partition the partition it was stored under; a mismatch is corruption.
 * @throws CheckpointError `CORRUPT` naming the first problem found.
 */
export function decodePartitionCheckpoint(text: string, partition: number): PartitionCheckpoint {
  const what = `checkpoint of partition ${partition}`;
  const raw = decode('partition-checkpoint', what, text);
  const problem = (reason: string) => new Corrupt(what, reason);

  const stored = asSafeInteger(raw.partition);
  if (stored !== partition) throw problem(`it names partition ${String(stored ?? raw.partition)}`);
  let position: { key: string; token: Document } | undefined;
  if (raw.position !== undefined) {
    const stored = asDocument(raw.position);
    if (stored === undefined || !isOrderingKey(stored.key))
      throw problem('position.key is not an ordering key');
    const token = asDocument(stored.token);
    if (token === undefined) throw problem('position.token is not a document');
    position = { key: stored.key, token };
  }
  if (!Array.isArray(raw.openFiles)) throw problem('openFiles is not an array');
  const openFiles = raw.openFiles.map((file: unknown, index: number) => {
    const record = decodeOpenFile(file);
    if (typeof record === 'string') throw problem(`openFiles[${index}].${record}`);
    return record;
  });
  if (typeof raw.writerId !== 'string') throw problem('writerId is not a string');
  const updatedAt = asDate(raw.updatedAt);
  if (updatedAt === undefined) throw problem('updatedAt is not a date');
  // Boolean flags a newer release may add are kept as stored; fields an
  // earlier release wrote are dropped; anything else is not a checkpoint.
  const flags: Record<string, boolean> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (KNOWN_FIELDS.has(name) || LEGACY_FIELDS.has(name)) continue;
    if (typeof value !== 'boolean') throw problem(`${name} is not a known field`);
    flags[name] = value;
  }
  return {
    ...flags,
    partition,
    ...(position ? { position } : {}),
    openFiles,
    writerId: raw.writerId,
    updatedAt,
  };
}

const KNOWN_FIELDS = new Set(['partition', 'position', 'openFiles', 'writerId', 'updatedAt']);

/**
 * Fields earlier releases stored and this one ignores: a fencing token that
 * fenced nothing (exclusivity is the compare-and-set and the files' write
 * leases), and a flag that let a dead letter break the batch chain.
 */
const LEGACY_FIELDS = new Set(['fencingToken', 'chainBroken']);

/** A decoded record, or the name of the field that is wrong. */
function decodeOpenFile(value: unknown): OpenFileRecord | string {
  const raw = asDocument(value);
  if (raw === undefined) return 'itself (not a document)';
  if (typeof raw.path !== 'string' || raw.path === '') return 'path';
  if (!isOrderingKey(raw.firstKey)) return 'firstKey';
  const length = asSafeInteger(raw.length);
  if (length === undefined || length < 0) return 'length';
  if (typeof raw.version !== 'string') return 'version';
  const openedAt = asDate(raw.openedAt);
  if (openedAt === undefined) return 'openedAt';
  if (raw.closed !== undefined && typeof raw.closed !== 'boolean') return 'closed';
  return {
    path: raw.path,
    firstKey: raw.firstKey,
    length,
    version: raw.version,
    openedAt,
    ...(raw.closed === true ? { closed: true } : {}),
  };
}

/**
 * Encodes capture's origin for storage (validated like
 * {@link encodePartitionCheckpoint}).
 *
 * @throws CheckpointError `CORRUPT` when the origin is not valid.
 */
export function encodeCaptureOrigin(origin: CaptureOrigin): string {
  const text = encode('capture-origin', origin);
  decodeCaptureOrigin(text);
  return text;
}

/**
 * Decodes and validates a stored capture origin.
 *
 * @throws CheckpointError `CORRUPT` naming the problem.
 */
export function decodeCaptureOrigin(text: string): CaptureOrigin {
  const what = 'capture origin';
  const raw = decode('capture-origin', what, text);
  const startAtOperationTime = asTimestamp(raw.startAtOperationTime);
  if (startAtOperationTime === undefined)
    throw new Corrupt(what, 'startAtOperationTime is not a BSON Timestamp');
  const createdAt = asDate(raw.createdAt);
  if (createdAt === undefined) throw new Corrupt(what, 'createdAt is not a date');
  return { startAtOperationTime, createdAt };
}

/**
 * Encodes a gap report for storage (validated like
 * {@link encodePartitionCheckpoint}).
 *
 * @throws CheckpointError `CORRUPT` when the report is not valid.
 */
export function encodeGapReport(report: GapReport): string {
  const text = encode('gap-report', report);
  decodeGapReport(text, report.partition);
  return text;
}

/**
 * Decodes and validates a stored gap report.
 *
 * @param partition the partition it was stored under; a mismatch is corruption.
 * @throws CheckpointError `CORRUPT` naming the problem.
 */
export function decodeGapReport(text: string, partition: number): GapReport {
  const what = `gap report of partition ${partition}`;
  const raw = decode('gap-report', what, text);
  const problem = (reason: string) => new Corrupt(what, reason);
  if (asSafeInteger(raw.partition) !== partition) throw problem('it names another partition');
  if (raw.afterKey !== '' && !isOrderingKey(raw.afterKey))
    throw problem('afterKey is not an ordering key');
  if (raw.missingUpTo !== '' && !isOrderingKey(raw.missingUpTo))
    throw problem('missingUpTo is not an ordering key');
  const generation = asSafeInteger(raw.generation);
  if (generation === undefined || generation < 0)
    throw problem('generation is not a whole number ≥ 0');
  if (typeof raw.writerId !== 'string') throw problem('writerId is not a string');
  const reportedAt = asDate(raw.reportedAt);
  if (reportedAt === undefined) throw problem('reportedAt is not a date');
  return {
    partition,
    afterKey: raw.afterKey as string,
    generation,
    missingUpTo: raw.missingUpTo as string,
    writerId: raw.writerId,
    reportedAt,
  };
}

/**
 * Encodes a capture's presence record for storage (validated like
 * {@link encodePartitionCheckpoint}).
 *
 * @throws CheckpointError `CORRUPT` when the record is not valid.
 */
export function encodeCapturePresence(presence: CapturePresence): string {
  const text = encode('capture-presence', presence);
  decodeCapturePresence(text);
  return text;
}

/**
 * Decodes and validates a stored presence record.
 *
 * @throws CheckpointError `CORRUPT` naming the problem.
 */
export function decodeCapturePresence(text: string): CapturePresence {
  const what = 'capture presence record';
  const raw = decode('capture-presence', what, text);
  if (typeof raw.captureId !== 'string' || raw.captureId === '')
    throw new Corrupt(what, 'captureId is not a string');
  const startedAt = asDate(raw.startedAt);
  if (startedAt === undefined) throw new Corrupt(what, 'startedAt is not a date');
  const reportedAt = asDate(raw.reportedAt);
  if (reportedAt === undefined) throw new Corrupt(what, 'reportedAt is not a date');
  return { captureId: raw.captureId, startedAt, reportedAt };
}

/**
 * Encodes a resume override for storage (validated like
 * {@link encodePartitionCheckpoint}).
 *
 * @throws CheckpointError `CORRUPT` when the override is not valid.
 */
export function encodeResumeOverride(override: ResumeOverride): string {
  // Fields in one order, so that the same override always encodes to the
  // same text: stores clear an override by comparing its text.
  const { kind, to, from, setAt } = override;
  const text = encode('resume-override', {
    kind,
    to: { clusterTime: to.clusterTime, ...(to.token ? { token: to.token } : {}) },
    from: {
      key: from.key,
      clusterTime: from.clusterTime,
      ...(from.token ? { token: from.token } : {}),
    },
    setAt,
  });
  decodeResumeOverride(text);
  return text;
}

/**
 * Decodes and validates a stored resume override.
 *
 * @throws CheckpointError `CORRUPT` naming the problem.
 */
export function decodeResumeOverride(text: string): ResumeOverride {
  const what = 'resume override';
  const raw = decode('resume-override', what, text);
  const problem = (reason: string) => new Corrupt(what, reason);
  if (raw.kind !== 'gap' && raw.kind !== 'overlap') throw problem('kind is not gap or overlap');
  const to = asDocument(raw.to);
  const toTime = asTimestamp(to?.clusterTime);
  if (to === undefined || toTime === undefined)
    throw problem('to.clusterTime is not a BSON Timestamp');
  const toToken = asDocument(to.token);
  if (to.token !== undefined && toToken === undefined) throw problem('to.token is not a document');
  const from = asDocument(raw.from);
  if (from === undefined || !isOrderingKey(from.key))
    throw problem('from.key is not an ordering key');
  const fromTime = asTimestamp(from.clusterTime);
  if (fromTime === undefined) throw problem('from.clusterTime is not a BSON Timestamp');
  const fromToken = asDocument(from.token);
  if (from.token !== undefined && fromToken === undefined)
    throw problem('from.token is not a document');
  const setAt = asDate(raw.setAt);
  if (setAt === undefined) throw problem('setAt is not a date');
  return {
    kind: raw.kind,
    to: { clusterTime: toTime, ...(toToken ? { token: toToken } : {}) },
    from: { key: from.key, clusterTime: fromTime, ...(fromToken ? { token: fromToken } : {}) },
    setAt,
  };
}
