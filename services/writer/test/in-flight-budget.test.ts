import { describe, expect, it } from 'vitest';
import { InFlightBudget } from '../src/in-flight-budget.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('the in-flight budget', () => {
  it('lets no more batches and bytes in than it holds, however many ask at once', async () => {
    const budget = new InFlightBudget(3, 100);
    const taken: number[] = [];
    const rooms = [40, 40, 40, 40].map((bytes, i) =>
      budget.reserve(bytes).then((room) => (taken.push(i), room)),
    );
    await tick();
    expect(taken).toEqual([0, 1]);
    expect(budget.usage).toEqual({ batches: 2, bytes: 80 });
    (await rooms[0])?.release();
    await tick();
    expect(taken).toEqual([0, 1, 2]);
    expect(budget.usage.bytes).toBeLessThanOrEqual(100);
    for (const room of await Promise.all(rooms.slice(1, 3))) room.release();
    await tick();
    expect(taken).toHaveLength(4);
  });

  it('never makes a batch in hand wait to grow, so loops holding rooms cannot wedge each other', async () => {
    const budget = new InFlightBudget(4, 100);
    const [a, b] = [await budget.reserve(40), await budget.reserve(40)];
    a.resize(90);
    b.resize(90);
    expect(budget.usage).toEqual({ batches: 2, bytes: 180 });
    let third = false;
    const waiting = budget.reserve(10).then((room) => ((third = true), room));
    await tick();
    expect(third).toBe(false);
    a.release();
    b.resize(10);
    await tick();
    expect(third).toBe(true);
    (await waiting).release();
    b.release();
    expect(budget.usage).toEqual({ batches: 0, bytes: 0 });
  });

  it('lets a batch larger than the whole budget through alone', async () => {
    const budget = new InFlightBudget(4, 100);
    const huge = await budget.reserve(500);
    let next = false;
    const after = budget.reserve(1).then((room) => ((next = true), room));
    await tick();
    expect(next).toBe(false);
    huge.release();
    await tick();
    expect(next).toBe(true);
    (await after).release();
  });

  it('stops waiting for room when the loop ends', async () => {
    const budget = new InFlightBudget(1, 100);
    const held = await budget.reserve(10);
    const stop = new AbortController();
    const waiting = budget.reserve(10, stop.signal);
    stop.abort(new Error('stopping'));
    await expect(waiting).rejects.toThrow('stopping');
    held.release();
    expect(budget.usage).toEqual({ batches: 0, bytes: 0 });
  });
});
