import type { Redis } from 'ioredis';
import type { PartitionLayout } from './partition-layout.ts';

/**
 * Partition leases, fencing tokens and writer presence, each one atomic Lua
 * script so that check-and-act never races another writer.
 */
const SCRIPTS = {
  /**
   * Takes a free lease and hands out the next fencing token. The token is
   * max(previous + 1, Redis time in ms): it grows on every change of owner,
   * and still grows after Redis lost everything (FLUSHALL, restart without
   * persistence), which a bare INCR would restart at 1 — and a checkpoint
   * store holding token 7 would then fence the new owner out forever.
   */
  tributaryLeaseAcquire: {
    numberOfKeys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local token = math.max(last + 1, nowMs)
local text = string.format('%d', token)
redis.call('SET', KEYS[2], text)
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. text, 'PX', ARGV[2])
return token`,
  },
  /** Extends a lease only while it is still this acquisition's. */
  tributaryLeaseRenew: {
    numberOfKeys: 1,
    lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`,
  },
  /** Deletes a lease only while it is still this acquisition's. */
  tributaryLeaseRelease: {
    numberOfKeys: 1,
    lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  },
  /**
   * Checked right before each fetch: the lease is still ours, and the
   * partition queue admits one active job at a time (BullMQ global
   * concurrency 1, re-asserted because a flushed Redis forgets it). With it,
   * BullMQ itself refuses to hand out a second job while a previous owner's
   * job is still active, so a stale owner can never skip the line.
   */
  tributaryLeaseGuard: {
    numberOfKeys: 2,
    lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'concurrency', 1)
return 1`,
  },
  /**
   * Registers a writer as alive for \`ttl\` ms, and as hungry (below its fair
   * share) or not; returns the live writers and the OTHER hungry ones.
   */
  tributaryPresenceBeat: {
    numberOfKeys: 2,
    lua: `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowMs)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs)
redis.call('ZADD', KEYS[1], nowMs + ttl, ARGV[1])
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[2], nowMs + ttl, ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], ttl * 2)
redis.call('PEXPIRE', KEYS[2], ttl * 2)
local hungry = redis.call('ZCARD', KEYS[2])
if ARGV[3] == '1' then hungry = hungry - 1 end
return {redis.call('ZCARD', KEYS[1]), hungry}`,
  },
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

/** A lease as one acquisition holds it. */
export interface Lease {
  readonly partition: number;
  readonly fencingToken: number;
  /** The lease key's value: `<writerId>|<fencingToken>`. */
  readonly value: string;
  /** When the acquiring request was sent: the lease holds at most until this + TTL. */
  readonly acquiredAt: number;
}

/** A lease as others see it: whose, and until when unless renewed. */
export interface LeaseHolder {
  readonly writerId: string;
  readonly until?: Date;
}

/** What a writer learns from its presence beat. */
export interface Presence {
  /** Live writers, this one included. */
  readonly live: number;
  /** Other live writers owning fewer partitions than their fair share. */
  readonly othersHungry: number;
}

/** Lease and presence operations on one Redis connection; every method may throw ioredis errors. */
export class LeaseStore {
  readonly #redis: Redis;
  readonly #layout: PartitionLayout;

  constructor(redis: Redis, layout: PartitionLayout) {
    this.#redis = redis;
    this.#layout = layout;
    for (const [name, definition] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, definition);
    }
  }

  /** Takes partition `p` when nobody holds it; `undefined` when someone does. */
  async acquire(partition: number, writerId: string, ttlMs: number): Promise<Lease | undefined> {
    const acquiredAt = Date.now();
    const token = Number(
      await this.#run(
        'tributaryLeaseAcquire',
        this.#layout.leaseKey(partition),
        this.#layout.fenceKey(partition),
        writerId,
        ttlMs,
      ),
    );
    if (token === 0) return undefined;
    return { partition, fencingToken: token, value: `${writerId}|${token}`, acquiredAt };
  }

  /** True while the lease is still ours (and now extended). */
  async renew(lease: Lease, ttlMs: number): Promise<boolean> {
    const key = this.#layout.leaseKey(lease.partition);
    return Number(await this.#run('tributaryLeaseRenew', key, lease.value, ttlMs)) === 1;
  }

  /** Frees the lease for other writers, if it is still ours. */
  async release(lease: Lease): Promise<void> {
    await this.#run('tributaryLeaseRelease', this.#layout.leaseKey(lease.partition), lease.value);
  }

  /** True when the lease is still ours; also caps the partition at one active job. */
  async guardFetch(lease: Lease, queueMetaKey: string): Promise<boolean> {
    const key = this.#layout.leaseKey(lease.partition);
    return Number(await this.#run('tributaryLeaseGuard', key, queueMetaKey, lease.value)) === 1;
  }

  /**
   * Who holds each of `partitions` now, and when the lease runs out unless
   * renewed (by this process's clock, from the lease's remaining TTL). One
   * MULTI of GET and PTTL per lease; reads only.
   */
  async holders(partitions: readonly number[]): Promise<Map<number, LeaseHolder>> {
    const multi = this.#redis.multi();
    for (const partition of partitions) {
      const key = this.#layout.leaseKey(partition);
      multi.get(key).pttl(key);
    }
    const readAt = Date.now();
    const replies = (await multi.exec()) ?? [];
    const holders = new Map<number, LeaseHolder>();
    partitions.forEach((partition, i) => {
      const [valueError, value] = replies[2 * i] ?? [];
      const [ttlError, ttl] = replies[2 * i + 1] ?? [];
      if (valueError) throw valueError;
      if (ttlError) throw ttlError;
      if (typeof value !== 'string') return;
      // `<writerId>|<fencingToken>`: the token is digits, so the last '|' ends the id.
      const writerId = value.slice(0, value.lastIndexOf('|'));
      const remainingMs = Number(ttl);
      holders.set(partition, {
        writerId,
        ...(remainingMs >= 0 ? { until: new Date(readAt + remainingMs) } : {}),
      });
    });
    return holders;
  }

  /** Marks the writer alive (and hungry or not) for \`ttlMs\`; see {@link Presence}. */
  async beat(writerId: string, ttlMs: number, hungry: boolean): Promise<Presence> {
    const [live, othersHungry] = (await this.#run(
      'tributaryPresenceBeat',
      this.#layout.presenceKey(),
      this.#layout.hungerKey(),
      writerId,
      ttlMs,
      hungry ? '1' : '0',
    )) as [number, number];
    return { live: Number(live), othersHungry: Number(othersHungry) };
  }

  /** Removes the writer from the live set, so the others rebalance at once. */
  async leave(writerId: string): Promise<void> {
    await this.#redis
      .multi()
      .zrem(this.#layout.presenceKey(), writerId)
      .zrem(this.#layout.hungerKey(), writerId)
      .exec();
  }

  #run(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    // defineCommand adds the method at run time; ioredis's types cannot know it.
    const call = (this.#redis as unknown as Record<ScriptName, ScriptCall>)[name];
    return call.apply(this.#redis, args);
  }
}
