import { describe, expect, it } from 'vitest';
import { Readiness, watchDependency } from '../src/index.ts';

class Outage extends Error {}

describe('a watched dependency', () => {
  it('makes the service not ready during an outage and ready at its next answer', async () => {
    const readiness = new Readiness();
    let failWith: Error | undefined;
    const client = {
      async read(): Promise<string> {
        if (failWith) throw failWith;
        return 'data';
      },
      name: 'lake',
    };
    const watched = watchDependency(client, 'lake', readiness, {
      isOutage: (error) => error instanceof Outage,
      describe: (error) => `unreachable (${(error as Error).message})`,
    });
    expect(watched.name).toBe('lake');
    expect(await watched.read()).toBe('data');
    failWith = new Outage('ECONNREFUSED');
    await expect(watched.read()).rejects.toThrow('ECONNREFUSED');
    expect(readiness.reasons()).toEqual(['lake: unreachable (ECONNREFUSED)']);
    // A conflict is an answer: the dependency is there.
    failWith = new Error('version moved');
    await expect(watched.read()).rejects.toThrow('version moved');
    expect(readiness.reasons()).toEqual([]);
    failWith = new Outage('ETIMEDOUT');
    await expect(watched.read()).rejects.toThrow();
    failWith = undefined;
    await watched.read();
    expect(readiness.reasons()).toEqual([]);
  });
});
