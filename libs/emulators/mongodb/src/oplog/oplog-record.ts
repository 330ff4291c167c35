import type { Document, Timestamp } from 'bson';
import { withNumericTypes } from '../storage/numeric-types.ts';
import {
  EXPANDED_ONLY_OPERATIONS,
  type OplogEntry,
  type OplogOperation,
  type UpdateDescription,
} from './oplog.ts';

/**
 * Is this entry part of the public record? Only changes a change stream
 * reports without `showExpandedEvents` are: the record stays one entry per
 * event of a default stream (what Tributary captures), though the oplog
 * also holds create/createIndexes/dropIndexes/collMod entries.
 */
export function isRecorded(entry: OplogEntry): boolean {
  return !EXPANDED_ONLY_OPERATIONS.has(entry.op);
}

/**
 * One oplog entry as tests read it: what happened, independent of any change
 * stream. `resumeToken` equals the `_id` of the change event a stream reports
 * for this entry, so records and events can be matched one to one.
 */
export interface OplogRecord {
  resumeToken: { _data: string };
  clusterTime: Timestamp;
  wallTime: Date;
  /** Position inside a transaction (0 outside). */
  txnOpIndex: number;
  /** Never an operation only expanded events report (see {@link isRecorded}). */
  operationType: OplogOperation;
  ns: { db: string; coll?: string };
  documentKey?: Document;
  /** The inserted document, or the document after an update or replace. */
  fullDocument?: Document;
  updateDescription?: UpdateDescription;
  /** Rename target. */
  to?: { db: string; coll: string };
  lsid?: Document;
  txnNumber?: unknown;
}

/** Converts an internal entry to its public record. */
export function toOplogRecord(entry: OplogEntry): OplogRecord {
  return {
    resumeToken: { _data: entry.token },
    clusterTime: entry.ts,
    wallTime: entry.wallTime,
    txnOpIndex: entry.txnOpIndex,
    operationType: entry.op,
    ns: entry.ns,
    ...(entry.documentKey ? { documentKey: withNumericTypes(entry.documentKey) } : {}),
    ...(entry.postImage ? { fullDocument: withNumericTypes(entry.postImage) } : {}),
    ...(entry.updateDescription
      ? { updateDescription: withNumericTypes(entry.updateDescription) }
      : {}),
    ...(entry.to ? { to: entry.to } : {}),
    ...(entry.lsid ? { lsid: entry.lsid, txnNumber: entry.txnNumber } : {}),
  };
}
