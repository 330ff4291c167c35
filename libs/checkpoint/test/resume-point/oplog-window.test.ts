import { Timestamp } from 'bson';
import type { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { headroomIn, readOplogBounds } from '../../src/resume-point/oplog-window.ts';

/** A client whose `local.oplog.rs` answers `find` with `answer(direction)`, recording the queries. */
function clientAnswering(answer: (direction: number) => Promise<unknown[]>) {
  const queries: { db: string; coll: string; direction: number; limit: number }[] = [];
  const client = {
    db: (db: string) => ({
      collection: (coll: string) => ({
        find: (_filter: unknown, options: { sort: { $natural: number }; limit: number }) => ({
          toArray: () => {
            queries.push({ db, coll, direction: options.sort.$natural, limit: options.limit });
            return answer(options.sort.$natural);
          },
        }),
      }),
    }),
  } as unknown as MongoClient;
  return { client, queries };
}

describe('the oplog window', () => {
  it('is read from the first and last entries of local.oplog.rs, one entry each', async () => {
    const { client, queries } = clientAnswering(async (direction) => [
      { ts: new Timestamp({ t: direction === 1 ? 1_000 : 4_000, i: 1 }) },
    ]);
    expect(await readOplogBounds(client)).toEqual({ first: 1_000, last: 4_000 });
    expect(queries).toEqual([
      { db: 'local', coll: 'oplog.rs', direction: 1, limit: 1 },
      { db: 'local', coll: 'oplog.rs', direction: -1, limit: 1 },
    ]);
  });

  it('is unknown for an empty oplog, and the refusal is the caller’s to report', async () => {
    expect(await readOplogBounds(clientAnswering(async () => []).client)).toBeUndefined();
    const refusing = clientAnswering(() => Promise.reject(new Error('not authorized on local')));
    await expect(readOplogBounds(refusing.client)).rejects.toThrow(/not authorized on local/);
  });

  it.each([
    { behaviour: 'within the window', time: 1800, headroom: 0.8 },
    { behaviour: 'at the oldest entry', time: 1000, headroom: 0 },
    { behaviour: 'past the newest entry', time: 2500, headroom: 1 },
    { behaviour: 'behind the window (history lost)', time: 900, headroom: -0.1 },
  ])('places a resume point $behaviour at $headroom of it', ({ time, headroom }) => {
    expect(headroomIn({ first: 1000, last: 2000 }, time)).toBeCloseTo(headroom, 10);
  });

  it('counts a window of no width as full headroom for a point in it, and as lost before it', () => {
    expect(headroomIn({ first: 1000, last: 1000 }, 1000)).toBe(1);
    expect(headroomIn({ first: 1000, last: 1000 }, 1200)).toBe(1);
    expect(headroomIn({ first: 1000, last: 1000 }, 500)).toBe(-1);
  });
});
