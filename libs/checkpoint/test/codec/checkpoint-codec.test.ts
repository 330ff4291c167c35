import { EJSON, Int32, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { isCheckpointError } from '../../src/checkpoint-error.ts';
import {
  decodeCaptureOrigin,
  decodeCapturePresence,
  decodeGapReport,
  decodePartitionCheckpoint,
  decodeResumeOverride,
  encodeCaptureOrigin,
  encodeCapturePresence,
  encodeGapReport,
  encodePartitionCheckpoint,
  encodeResumeOverride,
} from '../../src/codec/checkpoint-codec.ts';
import { sampleCheckpoint, sampleOverride } from '../checkpoint-conformance.ts';

function failureCode(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return isCheckpointError(error) ? error.code : 'not a checkpoint error';
  }
}

/** A stored checkpoint with one field replaced, as canonical Extended JSON. */
function storedWith(
  change: (value: Record<string, unknown>) => void,
  envelope: Record<string, unknown> = {},
): string {
  const parsed = EJSON.parse(encodePartitionCheckpoint(sampleCheckpoint(3, 1)), {
    relaxed: false,
  }) as {
    value: Record<string, unknown>;
  };
  change(parsed.value);
  return EJSON.stringify({ ...parsed, ...envelope }, { relaxed: false });
}

describe('checkpoint codec', () => {
  it('stores canonical Extended JSON, so numbers and dates keep their BSON types', () => {
    const text = encodePartitionCheckpoint(sampleCheckpoint(3, 1));
    expect(text).toContain('"partition":{"$numberInt":"3"}');
    expect(text).toContain('"$date":{"$numberLong":');
    expect(text).toContain('"_typeBits":{"$binary"');
    expect(decodePartitionCheckpoint(text, 3)).toEqual(sampleCheckpoint(3, 1));
  });

  it('keeps optional boolean flags a newer port adds', () => {
    const text = storedWith((v) => {
      v.someFlag = true;
    });
    expect((decodePartitionCheckpoint(text, 3) as unknown as { someFlag: boolean }).someFlag).toBe(
      true,
    );
  });

  it.each([
    ['text that is not Extended JSON', '{"format":'],
    ['a JSON array', '[1,2]'],
    ['another format version', storedWith(() => undefined, { format: new Int32(2) })],
    ['another kind of document', storedWith(() => undefined, { kind: 'capture-origin' })],
    ['another partition', storedWith((v) => (v.partition = new Int32(4)))],
    [
      'a position key that is not an ordering key',
      storedWith((v) => (v.position = { key: 'x', token: {} })),
    ],
    [
      'a token that is not a document',
      storedWith((v) => (v.position = { key: '1763730000-0000000001-0000000000', token: 'x' })),
    ],
    ['openFiles that is not an array', storedWith((v) => (v.openFiles = {}))],
    [
      'an open file with a negative length',
      storedWith((v) => ((v.openFiles as Record<string, unknown>[])[0]!.length = new Int32(-1))),
    ],
    [
      'an open file with a closed flag that is not a boolean',
      storedWith((v) => ((v.openFiles as Record<string, unknown>[])[0]!.closed = 'yes')),
    ],
    ['an updatedAt that is not a date', storedWith((v) => (v.updatedAt = '2026-11-21'))],
    ['an unknown field that is not a flag', storedWith((v) => (v.surprise = 'x'))],
  ])('reports %s as CORRUPT', (_what, text) => {
    expect(failureCode(() => decodePartitionCheckpoint(text, 3))).toBe('CORRUPT');
  });

  it('refuses to encode a checkpoint it could not read back', () => {
    const bad = { ...sampleCheckpoint(1, 1), updatedAt: new Date(Number.NaN) };
    expect(failureCode(() => encodePartitionCheckpoint(bad))).toBe('CORRUPT');
  });

  it('reads a checkpoint of the previous release, dropping its fencing token and chain flag', () => {
    const text = storedWith((v) => {
      v.fencingToken = new Int32(7);
      v.chainBroken = true;
    });
    expect(decodePartitionCheckpoint(text, 3)).toEqual(sampleCheckpoint(3, 1));
  });

  it('round-trips a gap report', () => {
    const report = {
      partition: 5,
      afterKey: '1763730000-0000000001-0000000000',
      generation: 1_764_619_200_123,
      missingUpTo: '1763730000-0000000009-0000000000',
      writerId: 'w1',
      reportedAt: new Date(9),
    };
    expect(decodeGapReport(encodeGapReport(report), 5)).toEqual(report);
    expect(failureCode(() => decodeGapReport(encodeGapReport(report), 6))).toBe('CORRUPT');
    expect(failureCode(() => encodeGapReport({ ...report, generation: -1 }))).toBe('CORRUPT');
    expect(failureCode(() => encodeGapReport({ ...report, afterKey: 'x' }))).toBe('CORRUPT');
  });

  it('round-trips the capture origin with its BSON Timestamp', () => {
    const origin = {
      startAtOperationTime: new Timestamp({ t: 1763730000, i: 7 }),
      createdAt: new Date(5),
    };
    const decoded = decodeCaptureOrigin(encodeCaptureOrigin(origin));
    expect(decoded.startAtOperationTime).toBeInstanceOf(Timestamp);
    expect(decoded).toEqual(origin);
  });

  it('reports an origin whose start is not a Timestamp as CORRUPT', () => {
    const text = EJSON.stringify(
      {
        format: 1,
        kind: 'capture-origin',
        value: { startAtOperationTime: 5, createdAt: new Date(0) },
      },
      { relaxed: false },
    );
    expect(failureCode(() => decodeCaptureOrigin(text))).toBe('CORRUPT');
  });

  it('round-trips a resume override, and refuses one of an unknown kind or without a Timestamp', () => {
    const override = sampleOverride('gap', 3);
    expect(decodeResumeOverride(encodeResumeOverride(override))).toEqual(override);
    expect(
      failureCode(() => encodeResumeOverride({ ...override, kind: 'sideways' as 'gap' })),
    ).toBe('CORRUPT');
    expect(
      failureCode(() =>
        encodeResumeOverride({ ...override, to: { clusterTime: 5 as unknown as Timestamp } }),
      ),
    ).toBe('CORRUPT');
    expect(
      failureCode(() =>
        decodeResumeOverride(
          encodeCaptureOrigin({
            startAtOperationTime: new Timestamp({ t: 1, i: 1 }),
            createdAt: new Date(0),
          }),
        ),
      ),
    ).toBe('CORRUPT');
  });

  it('round-trips a presence record and refuses one without a capture id', () => {
    const presence = { captureId: 'host-1-42', startedAt: new Date(1), reportedAt: new Date(2) };
    expect(decodeCapturePresence(encodeCapturePresence(presence))).toEqual(presence);
    expect(failureCode(() => encodeCapturePresence({ ...presence, captureId: '' }))).toBe(
      'CORRUPT',
    );
  });
});
