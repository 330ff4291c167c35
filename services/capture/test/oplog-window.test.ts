import { createLogger } from '@tributary/core';
import { Timestamp } from 'bson';
import type { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { OplogWindow } from '../src/oplog-window.ts';

/** A client whose `local.oplog.rs` answers `find` with `answer(direction)`. */
function clientAnswering(answer: (direction: number) => Promise<unknown[]>) {
  const queries: { db: string; coll: string; direction: number }[] = [];
  const client = {
    db: (db: string) => ({
      collection: (coll: string) => ({
        find: (_filter: unknown, options: { sort: { $natural: number } }) => ({
          toArray: () => {
            queries.push({ db, coll, direction: options.sort.$natural });
            return answer(options.sort.$natural);
          },
        }),
      }),
    }),
  } as unknown as MongoClient;
  return { client, queries };
}

function logLines() {
  const lines: string[] = [];
  const logger = createLogger({
    name: 'test',
    destination: { write: (l: string) => lines.push(l) },
  });
  return { logger, lines };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('the oplog window', () => {
  it('is read from the first and last entries of local.oplog.rs, then not again for a while', async () => {
    const { client, queries } = clientAnswering(async (direction) => [
      { ts: new Timestamp({ t: direction === 1 ? 1_000 : 4_000, i: 1 }) },
    ]);
    const window = new OplogWindow(client, logLines().logger);
    window.poll(0);
    await settle();
    expect(window.bounds).toEqual({ first: 1_000, last: 4_000 });
    expect(queries).toEqual([
      { db: 'local', coll: 'oplog.rs', direction: 1 },
      { db: 'local', coll: 'oplog.rs', direction: -1 },
    ]);
    window.poll(1_000);
    await settle();
    expect(queries).toHaveLength(2);
    window.poll(30_000);
    await settle();
    expect(queries).toHaveLength(4);
  });

  it('is not reported where the source refuses the read, with one line saying what to grant', async () => {
    const { client } = clientAnswering(() =>
      Promise.reject(new Error('not authorized on local to execute command { find: "oplog.rs" }')),
    );
    const { logger, lines } = logLines();
    const window = new OplogWindow(client, logger);
    window.poll(0);
    await settle();
    expect(window.bounds).toBeUndefined();
    window.poll(10 * 60_000);
    await settle();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/grant the capture user read on the local database/);
    expect(lines[0]).toMatch(/not authorized on local/);
  });
});
