import { type Lake, createMemoryLake } from '@tributary/lake';
import { Binary, Timestamp } from 'bson';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLakeCheckpointStore } from '../../src/lake/lake-checkpoint-store.ts';
import {
  decodeResumeMarker,
  isResumeMarkerPath,
  moveResumePoint,
  resumeMarkerLine,
  resumeMarkerPath,
} from '../../src/resume-point/resume-point-marker.ts';
import { expectCheckpointError, sampleOverride } from '../checkpoint-conformance.ts';

describe('moving the resume point', () => {
  let lake: Lake;

  beforeEach(() => {
    lake = createMemoryLake();
  });
  afterEach(async () => {
    await lake.close();
  });

  const markerOf = async (path: string) =>
    JSON.parse(new TextDecoder().decode(await lake.read(path))) as Record<string, unknown>;

  it('names the marker after when it was set, to the second, under the reserved prefix', () => {
    expect(resumeMarkerPath(new Date('2026-11-21T13:40:05.678Z'))).toBe(
      '_tributary/markers/resume-point-20261121T134005Z.jsonl',
    );
  });

  it('writes one marker line a reader understands, then stores the override', async () => {
    const checkpoints = createLakeCheckpointStore({ lake });
    const override = sampleOverride('gap', 5);
    const path = await moveResumePoint({ lake, checkpoints, override, partitionsBehind: [0, 2] });
    expect(path).toBe('_tributary/markers/resume-point-20261121T134005Z.jsonl');
    const text = new TextDecoder().decode(await lake.read(path));
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    expect(await markerOf(path)).toEqual({
      marker: 'resume-point-moved',
      kind: 'gap',
      from: {
        key: '1763730000-0000000003-0000000000',
        clusterTime: { at: '2025-11-21T13:00:00Z', t: 1763730000, i: 3 },
        token: { _data: '82691FD5D0000000032B0229296E04' },
      },
      to: {
        clusterTime: { at: '2025-11-21T13:00:05Z', t: 1763730005, i: 0 },
        token: { _data: '8267', _typeBits: { $binary: { base64: 'QA==', subType: '00' } } },
      },
      partitions: [0, 2],
      setAt: '2026-11-21T13:40:05.000Z',
      by: 'tributary resume-point set',
    });
    expect(await checkpoints.readResumeOverride()).toEqual(override);
  });

  it('stores no override when the marker cannot be written', async () => {
    const checkpoints = createLakeCheckpointStore({ lake });
    const failing = new Proxy(lake, {
      get(target, property) {
        if (property === 'writeDocument')
          return () => Promise.reject(new Error('the lake refused the write'));
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect(
      moveResumePoint({
        lake: failing,
        checkpoints,
        override: sampleOverride('gap', 5),
        partitionsBehind: [],
      }),
    ).rejects.toThrow('the lake refused the write');
    expect(await checkpoints.readResumeOverride()).toBeUndefined();
  });

  it('takes a retried move’s own marker as written, and refuses another move in the same second', async () => {
    const checkpoints = createLakeCheckpointStore({ lake });
    const override = sampleOverride('overlap', 5);
    const move = (o = override) =>
      moveResumePoint({ lake, checkpoints, override: o, partitionsBehind: [] });
    const path = await move();
    await checkpoints.clearResumeOverride(override);
    expect(await move()).toBe(path);
    expect(await checkpoints.readResumeOverride()).toEqual(override);
    const other = { ...sampleOverride('gap', 5), setAt: new Date(override.setAt.getTime() + 300) };
    await expectCheckpointError(move(other), 'CONFLICT');
    expect(await checkpoints.readResumeOverride()).toEqual(override);
    expect((await markerOf(path)).kind).toBe('overlap');
  });
});

describe('reading a resume-point marker back', () => {
  it.each(['gap', 'overlap'] as const)(
    'reads a %s marker as it was written, with exact clusterTimes and tokens',
    (kind) => {
      const override = sampleOverride(kind, 5);
      const marker = decodeResumeMarker(resumeMarkerLine(override, kind === 'gap' ? [0, 2] : []));
      expect(marker).toEqual({ ...override, partitions: kind === 'gap' ? [0, 2] : [] });
      expect(marker.from.clusterTime).toBeInstanceOf(Timestamp);
      expect(marker.to.clusterTime).toEqual(new Timestamp({ t: 1763730005, i: 0 }));
      if (kind === 'gap') expect(marker.to.token?._typeBits).toBeInstanceOf(Binary);
    },
  );

  const line = JSON.parse(resumeMarkerLine(sampleOverride('gap', 5), [1])) as Record<
    string,
    unknown
  >;
  it.each([
    ['two lines', `${JSON.stringify(line)}\n${JSON.stringify(line)}\n`, 'holds 2 lines'],
    ['not JSON', '{"marker": ', 'not JSON'],
    ['another marker', JSON.stringify({ ...line, marker: 'other' }), 'no resume-point-moved'],
    ['an unknown kind', JSON.stringify({ ...line, kind: 'jump' }), 'kind is not gap or overlap'],
    [
      'a gap without partitions',
      JSON.stringify({ ...line, partitions: undefined }),
      'partitions is not a list',
    ],
    ['a negative partition', JSON.stringify({ ...line, partitions: [-1] }), 'partitions'],
    [
      'a clusterTime without increment',
      JSON.stringify({ ...line, to: { clusterTime: { t: 1 } } }),
      'to.clusterTime has no seconds t and increment i',
    ],
    [
      'a token that is no document',
      JSON.stringify({ ...line, to: { clusterTime: { t: 1, i: 0 }, token: 'x' } }),
      'to.token is not a document',
    ],
    ['no setAt', JSON.stringify({ ...line, setAt: 'soon' }), 'setAt is not an ISO 8601 time'],
  ])('refuses %s as CORRUPT, naming the problem', (_, text, reason) => {
    let thrown: unknown;
    try {
      decodeResumeMarker(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'CORRUPT', message: expect.stringContaining(reason) });
  });

  it('tells resume-point markers from other files under the markers directory', () => {
    expect(isResumeMarkerPath(resumeMarkerPath(new Date('2026-11-21T13:40:05Z')))).toBe(true);
    expect(isResumeMarkerPath('_tributary/markers/other-20261121T134005Z.jsonl')).toBe(false);
    expect(isResumeMarkerPath('_tributary/markers/resume-point-20261121T134005Z.json')).toBe(false);
    expect(isResumeMarkerPath('x/_tributary/markers/resume-point-20261121T134005Z.jsonl')).toBe(
      false,
    );
  });
});
