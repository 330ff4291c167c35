import type { CapturePresence } from '@tributary/checkpoint';
import { describe, expect, it } from 'vitest';
import { presenceChanged } from '../src/resume-point/refuse-while-capture-runs.ts';

const record = (captureId: string, reportedAtMs: number): CapturePresence => ({
  captureId,
  startedAt: new Date(0),
  reportedAt: new Date(reportedAtMs),
});

describe('whether a capture reported since the presence record was read', () => {
  it.each<[string, CapturePresence | undefined, CapturePresence | undefined, boolean]>([
    ['no record then or now', undefined, undefined, false],
    ['the same record, however old', record('c1', 1_000), record('c1', 1_000), false],
    ['the record removed since (capture stopped)', record('c1', 1_000), undefined, false],
    ['a record where there was none', undefined, record('c1', 1_000), true],
    ['a later report by the same capture', record('c1', 1_000), record('c1', 6_000), true],
    // Capture's clock may have been set back: any change is a report.
    [
      'an earlier-stamped report by the same capture',
      record('c1', 6_000),
      record('c1', 1_000),
      true,
    ],
    ['another capture, at the same time', record('c1', 1_000), record('c2', 1_000), true],
  ])('%s', (_what, before, after, changed) => {
    expect(presenceChanged(before, after)).toBe(changed);
  });
});
