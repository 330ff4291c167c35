import type { OpenFile } from './open-file.ts';

/** Limits that make a file roll. */
export interface RollLimits {
  readonly maxFileBytes: number;
  readonly maxFileAgeMs: number;
  readonly idleCloseMs: number;
}

/** Why an open file should be closed now, or `undefined` to keep it. */
export function closeReason(file: OpenFile, now: number, limits: RollLimits): string | undefined {
  if (now - file.openedAt.getTime() >= limits.maxFileAgeMs) return 'age';
  if (now - file.lastAppendAt >= limits.idleCloseMs) return 'idle';
  if (file.length >= limits.maxFileBytes) return 'size';
  return undefined;
}

/**
 * Whether `bytes` more would push a file that already holds data past the
 * size limit. An empty file always takes the line, so a line longer than the
 * limit still lands (in a file of its own) instead of looping forever.
 */
export function wouldOverflow(file: OpenFile, bytes: number, limits: RollLimits): boolean {
  return file.length > 0 && file.length + bytes > limits.maxFileBytes;
}
