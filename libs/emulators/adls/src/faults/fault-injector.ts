import { OPERATIONS, type OperationName } from '../http/request.ts';
import { CRASH_POINTS, type CrashPoint } from '../store/journal.ts';

/** The operations a `crash` rule can name: the ones whose change is one journal record. */
const CRASHABLE_OPERATIONS: readonly OperationName[] = ['path.append', 'path.flush'];

/**
 * One fault rule. A request matches when its operation is listed (or no list
 * is given) and its URL path contains `pathContains` (when given). Of the
 * matching requests, the first `skip` pass untouched; after that the rule
 * fires with `probability` (default 1) at most `times` times (default: no
 * limit).
 */
export interface FaultRule {
  /** Operations the rule applies to; all when omitted. */
  operations?: OperationName[];
  /** Only requests whose URL path contains this text. */
  pathContains?: string;
  /** Delay before the request is handled, in milliseconds. */
  latencyMs?: number;
  /** Extra random delay in `[0, latencyJitterMs)`. */
  latencyJitterMs?: number;
  /**
   * Answer 500 InternalError, 503 ServerBusy, 409 with `errorCode` — a
   * conflict of the client's choosing, such as one no client knows yet —
   * or 400 with `errorCode`: a refusal such as `InvalidResourceName`.
   */
  status?: 500 | 503 | 409 | 400;
  /** The `x-ms-error-code` of a 409 or 400 answer (required with them, refused otherwise). */
  errorCode?: string;
  /** Drop the TCP connection (the client sees ECONNRESET / "socket hang up"). */
  reset?: boolean;
  /**
   * Freeze the whole emulator at this point of writing the request's journal
   * record (`before-journal-write`, `mid-journal-write` — half the record
   * written — or `after-journal-write`, before the fsync and the answer),
   * printing `[adls-emulator] frozen at crash point <point>` to stderr, so a
   * test can SIGKILL the process exactly there. Only for an emulator in its
   * own process, and only with `operations` limited to `path.append` /
   * `path.flush`.
   */
  crash?: CrashPoint;
  /** Chance that a matching request is hit, 0..1 (default 1). */
  probability?: number;
  /** Matching requests to let through before the rule starts firing (0 = the next one). */
  skip?: number;
  /** Most times the rule fires (default unlimited). */
  times?: number;
  /**
   * `before` (default): the operation is not performed. `after`: the
   * operation is performed and then its answer is replaced or lost — the
   * "it worked but the client never heard" case retries must survive.
   */
  phase?: 'before' | 'after';
  /**
   * Hold each request the rule fires on until the rule is removed, instead
   * of for a fixed time, so a test can act at a known point (kill the
   * client while its request is in the air). At phase `before` the request
   * waits before it is performed; at `after` it is performed and its answer
   * waits. {@link FaultInjector.remove} (and `clear`) let held requests go
   * on; {@link FaultInjector.abandon} drops them as a client that died
   * would leave them: one held before is never performed, one held after is
   * never answered, and either's connection is reset. A fixed latency would
   * instead perform the operation of a dead client long after it died.
   */
  hold?: boolean;
}

/** A rule as listed, with its id and counters. */
export interface ActiveFaultRule extends FaultRule {
  id: string;
  /** Matching requests seen so far. */
  seen: number;
  /** Times the rule fired. */
  fired: number;
}

/** What to do to one request. */
export interface FaultDecision {
  latencyMs: number;
  failure:
    | {
        kind: 'status';
        status: 500 | 503 | 409 | 400;
        errorCode?: string;
        phase: 'before' | 'after';
      }
    | { kind: 'reset'; phase: 'before' | 'after' }
    | { kind: 'crash'; point: CrashPoint; phase: 'before' }
    | undefined;
  /** Set when a `hold` rule fired: the request waits for `released` at `phase`. */
  hold?: { phase: 'before' | 'after'; released: Promise<HoldOutcome> };
}

/** How a held request ends: `go` on (the rule was removed) or `drop` (abandoned). */
export type HoldOutcome = 'go' | 'drop';

/** Checks a rule from an untrusted source (the admin route); throws TypeError naming the bad field. */
export function validateFaultRule(value: unknown): FaultRule {
  if (typeof value !== 'object' || value === null)
    throw new TypeError('a fault rule must be a JSON object');
  const rule = value as Record<string, unknown>;
  const known = new Set([
    'operations',
    'pathContains',
    'latencyMs',
    'latencyJitterMs',
    'status',
    'reset',
    'probability',
    'skip',
    'times',
    'phase',
    'crash',
    'errorCode',
    'hold',
  ]);
  for (const key of Object.keys(rule))
    if (!known.has(key)) throw new TypeError(`unknown fault rule field '${key}'`);
  const nonNegative = (key: string): void => {
    const v = rule[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
      throw new TypeError(`${key} must be a number >= 0`);
  };
  ['latencyMs', 'latencyJitterMs', 'skip', 'times'].forEach(nonNegative);
  if (
    rule.probability !== undefined &&
    (typeof rule.probability !== 'number' || rule.probability < 0 || rule.probability > 1)
  ) {
    throw new TypeError('probability must be between 0 and 1');
  }
  if (
    rule.status !== undefined &&
    rule.status !== 500 &&
    rule.status !== 503 &&
    rule.status !== 409 &&
    rule.status !== 400
  )
    throw new TypeError('status must be 500, 503, 409 or 400');
  if ((rule.status === 409 || rule.status === 400) !== (rule.errorCode !== undefined))
    throw new TypeError('a 409 or 400 answer needs an errorCode, and only those answers take one');
  if (
    rule.errorCode !== undefined &&
    (typeof rule.errorCode !== 'string' || !/^[A-Za-z]+$/.test(rule.errorCode))
  )
    throw new TypeError('errorCode must be letters only, like the service’s codes');
  if (rule.reset !== undefined && typeof rule.reset !== 'boolean')
    throw new TypeError('reset must be a boolean');
  if (rule.status !== undefined && rule.reset === true)
    throw new TypeError('a rule either answers a status or resets the connection, not both');
  if (rule.hold !== undefined && typeof rule.hold !== 'boolean')
    throw new TypeError('hold must be a boolean');
  if (rule.hold === true && rule.crash !== undefined)
    throw new TypeError('a crash rule cannot also hold the request');
  if (rule.crash !== undefined) {
    if (!(CRASH_POINTS as readonly unknown[]).includes(rule.crash))
      throw new TypeError(`crash must be one of ${CRASH_POINTS.join(', ')}`);
    if (rule.status !== undefined || rule.reset === true || rule.phase === 'after')
      throw new TypeError("a crash rule cannot also answer a status, reset or use phase 'after'");
    const operations = rule.operations;
    if (
      !Array.isArray(operations) ||
      operations.length === 0 ||
      !operations.every((op) => CRASHABLE_OPERATIONS.includes(op as OperationName))
    )
      throw new TypeError(`a crash rule needs operations from ${CRASHABLE_OPERATIONS.join(', ')}`);
  }
  if (rule.phase !== undefined && rule.phase !== 'before' && rule.phase !== 'after')
    throw new TypeError("phase must be 'before' or 'after'");
  if (rule.pathContains !== undefined && typeof rule.pathContains !== 'string')
    throw new TypeError('pathContains must be a string');
  if (rule.operations !== undefined) {
    if (!Array.isArray(rule.operations)) throw new TypeError('operations must be an array');
    for (const op of rule.operations) {
      if (!(OPERATIONS as readonly unknown[]).includes(op))
        throw new TypeError(`unknown operation '${String(op)}'`);
    }
  }
  return rule as FaultRule;
}

/**
 * Fault injection for tests, shared by the in-process API and the admin
 * HTTP route: latency per operation, fixed or random 500 / 503 answers,
 * connection resets and crash points at a chosen request.
 */
export class FaultInjector {
  private readonly rules: ActiveFaultRule[] = [];
  private nextId = 1;
  private random: () => number = Math.random;
  private requests = 0;
  /** Per rule id, how to end each request it holds now. */
  private readonly held = new Map<string, Array<(outcome: HoldOutcome) => void>>();

  /** Adds a rule; returns its id. */
  add(rule: FaultRule): string {
    const checked = validateFaultRule(rule);
    const id = `fault-${this.nextId++}`;
    this.rules.push({ ...checked, id, seen: 0, fired: 0 });
    return id;
  }

  /** Removes one rule; requests it holds go on. Returns false when there was none with that id. */
  remove(id: string): boolean {
    return this.end(id, 'go');
  }

  /**
   * Removes one rule and drops the requests it holds, as if their client
   * had died: none of them is performed (or, held after, answered). Returns
   * false when there was no rule with that id.
   */
  abandon(id: string): boolean {
    return this.end(id, 'drop');
  }

  /** Removes every rule; held requests go on. */
  clear(): void {
    for (const rule of [...this.rules]) this.end(rule.id, 'go');
  }

  private end(id: string, outcome: HoldOutcome): boolean {
    const index = this.rules.findIndex((rule) => rule.id === id);
    if (index === -1) return false;
    this.rules.splice(index, 1);
    for (const release of this.held.get(id) ?? []) release(outcome);
    this.held.delete(id);
    return true;
  }

  /** The active rules with their counters. */
  list(): ActiveFaultRule[] {
    return this.rules.map((rule) => ({ ...rule }));
  }

  /** Storage requests received so far (admin requests not counted). */
  get requestCount(): number {
    return this.requests;
  }

  /** Makes random faults repeatable. */
  seed(seed: number): void {
    let state = seed >>> 0;
    // mulberry32: small, fast and good enough to pick which request fails.
    this.random = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /** Adds latency to every request of the given operations (all when omitted). */
  setLatency(latencyMs: number, operations?: OperationName[]): string {
    return this.add({ latencyMs, ...(operations ? { operations } : {}) });
  }

  /** Fails the next `count` matching requests with `status`. */
  failNext(count: number, status: 500 | 503, operations?: OperationName[]): string {
    return this.add({ status, times: count, ...(operations ? { operations } : {}) });
  }

  /** Fails each matching request with `status` with the given probability. */
  failRandomly(probability: number, status: 500 | 503, operations?: OperationName[]): string {
    return this.add({ status, probability, ...(operations ? { operations } : {}) });
  }

  /** Drops the connection of the `nth` (1-based) matching request from now on. */
  resetConnectionAt(
    nth: number,
    operations?: OperationName[],
    phase: 'before' | 'after' = 'before',
  ): string {
    return this.add({
      reset: true,
      skip: nth - 1,
      times: 1,
      phase,
      ...(operations ? { operations } : {}),
    });
  }

  /** Decides what happens to one request. */
  decide(operation: OperationName, urlPath: string): FaultDecision {
    this.requests++;
    const decision: FaultDecision = { latencyMs: 0, failure: undefined };
    for (const rule of this.rules) {
      if (rule.operations && !rule.operations.includes(operation)) continue;
      if (rule.pathContains !== undefined && !urlPath.includes(rule.pathContains)) continue;
      rule.seen++;
      if (rule.seen <= (rule.skip ?? 0)) continue;
      if (rule.times !== undefined && rule.fired >= rule.times) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      const isFailure =
        rule.status !== undefined || rule.reset === true || rule.crash !== undefined;
      if (isFailure && decision.failure) continue;
      // One hold per request: a second would only be released with the first.
      if (rule.hold === true && decision.hold) continue;
      rule.fired++;
      decision.latencyMs +=
        (rule.latencyMs ?? 0) + (rule.latencyJitterMs ? this.random() * rule.latencyJitterMs : 0);
      const phase = rule.phase ?? 'before';
      if (rule.hold === true) decision.hold = { phase, released: this.holdFor(rule.id) };
      if (rule.crash !== undefined)
        decision.failure = { kind: 'crash', point: rule.crash, phase: 'before' };
      else if (rule.reset) decision.failure = { kind: 'reset', phase };
      else if (rule.status !== undefined)
        decision.failure = {
          kind: 'status',
          status: rule.status,
          ...(rule.errorCode === undefined ? {} : { errorCode: rule.errorCode }),
          phase,
        };
    }
    return decision;
  }

  private holdFor(id: string): Promise<HoldOutcome> {
    return new Promise((resolve) => {
      const waiting = this.held.get(id) ?? [];
      waiting.push(resolve);
      this.held.set(id, waiting);
    });
  }
}
