import { errors } from '../emulator-error.ts';

/** What a `server-busy` rule can refuse. */
export type BusyOperation = 'send' | 'receive' | 'management' | 'attach';

const BUSY_OPERATIONS: readonly BusyOperation[] = ['send', 'receive', 'management', 'attach'];

/**
 * A standing fault: armed now, it acts on the operations that come next.
 *
 * - `server-busy`: matching operations answer `com.microsoft:server-busy`
 *   (the SDK's `ServiceBusy`): a send is rejected, a management request
 *   gets 503, an attach is refused, a receiver is detached.
 * - `delay-settlements`: the answer to each matching settlement (complete,
 *   abandon, defer, dead-letter — on the link or through `$management`) is
 *   held for `delayMs`.
 */
export type FaultRule =
  | {
      kind: 'server-busy';
      /** Operations refused; default all. */
      operations?: BusyOperation[];
      /** Only this entity (queue name, any case); default every entity. */
      entity?: string;
      /** Let this many matching operations through first; default 0. */
      skip?: number;
      /** Act this many times, then disarm; default for ever. */
      times?: number;
    }
  | {
      kind: 'delay-settlements';
      delayMs: number;
      entity?: string;
      skip?: number;
      times?: number;
    };

/** A rule as listed: its id and how often it has acted. */
export type ActiveFaultRule = FaultRule & { id: string; hits: number };

/** The actions a fault can take at once; bound by the running emulator. */
export interface FaultActions {
  /** Drops client connections (TCP destroyed, no AMQP close); returns how many. */
  dropConnections(entity: string | undefined): number;
  /** Detaches client links with an error; returns how many. */
  detachLinks(
    entity: string | undefined,
    error: { condition: string; description: string },
  ): number;
  /** Ends every message and session lock now, as if they had expired; returns how many. */
  expireLocks(entity: string | undefined): number;
  /** Expires one waiting message of `entity` now, as if its time to live had run out. */
  expireMessage(entity: string, messageId: string): boolean;
}

function checkRule(rule: unknown): FaultRule {
  if (typeof rule !== 'object' || rule === null)
    throw new TypeError('a fault rule must be an object');
  const r = rule as Record<string, unknown>;
  const count = (name: string, min: number): void => {
    const v = r[name];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min))
      throw new TypeError(`${name} must be a whole number ≥ ${min}`);
  };
  count('skip', 0);
  count('times', 1);
  if (r['entity'] !== undefined && typeof r['entity'] !== 'string')
    throw new TypeError('entity must be a queue name');
  if (r['kind'] === 'server-busy') {
    const ops = r['operations'];
    if (
      ops !== undefined &&
      (!Array.isArray(ops) || !ops.every((o) => BUSY_OPERATIONS.includes(o as BusyOperation)))
    )
      throw new TypeError(`operations must be a list of ${BUSY_OPERATIONS.join(', ')}`);
    return rule as FaultRule;
  }
  if (r['kind'] === 'delay-settlements') {
    const d = r['delayMs'];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 600_000)
      throw new TypeError('delayMs must be a whole number of ms from 0 to 600000');
    return rule as FaultRule;
  }
  throw new TypeError("kind must be 'server-busy' or 'delay-settlements'");
}

/**
 * Faults for tests, in process (`emulator.faults`) or over the admin route:
 * standing rules ({@link FaultRule}) and immediate actions, each taken at the
 * moment the test calls it.
 */
export class FaultInjector {
  private rules: ActiveFaultRule[] = [];
  private nextId = 1;
  private actions: FaultActions | undefined;

  /** @internal the running emulator provides the immediate actions. */
  bind(actions: FaultActions): void {
    this.actions = actions;
  }

  /** Arms a rule; returns its id. */
  add(rule: FaultRule): string {
    const checked = checkRule(rule);
    const id = `fault-${this.nextId++}`;
    this.rules.push({ ...checked, id, hits: 0 });
    return id;
  }

  /** Shorthand: the next `times` matching operations answer ServerBusy. */
  serverBusy(
    options: { operations?: BusyOperation[]; entity?: string; skip?: number; times?: number } = {},
  ): string {
    return this.add({ kind: 'server-busy', ...options });
  }

  /** Shorthand: settlement answers are held for `delayMs`. */
  delaySettlements(
    delayMs: number,
    options: { entity?: string; skip?: number; times?: number } = {},
  ): string {
    return this.add({ kind: 'delay-settlements', delayMs, ...options });
  }

  list(): ActiveFaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length !== before;
  }

  clear(): void {
    this.rules = [];
  }

  /** Drops every client connection (optionally only those with a link to `entity`). */
  dropConnections(entity?: string): number {
    return this.bound().dropConnections(entity);
  }

  /**
   * Detaches client links (optionally of one entity) with a retryable error:
   * `amqp:link:detach-forced` unless another condition is given.
   */
  detachLinks(options: { entity?: string; condition?: string; description?: string } = {}): number {
    return this.bound().detachLinks(options.entity, {
      condition: options.condition ?? 'amqp:link:detach-forced',
      description:
        options.description ?? 'The link was detached by the emulator (fault injection).',
    });
  }

  /** Every message and session lock (optionally of one queue) expires now. */
  expireLocks(entity?: string): number {
    return this.bound().expireLocks(entity);
  }

  /**
   * The waiting message of queue `entity` with this message id expires now,
   * as if its time to live had run out: dead-lettered with
   * `TTLExpiredException` when the queue dead-letters on expiry, otherwise
   * gone. A message a receiver holds is left alone (the service expires a
   * locked message only once its lock ends). Returns whether it expired.
   */
  expireMessage(entity: string, messageId: string): boolean {
    return this.bound().expireMessage(entity, messageId);
  }

  /** @internal throws ServerBusy when a rule refuses `operation` on `entity`. */
  checkBusy(operation: BusyOperation, entity: string): void {
    const rule = this.match(
      'server-busy',
      entity,
      (r) => r.kind === 'server-busy' && (r.operations ?? BUSY_OPERATIONS).includes(operation),
    );
    if (rule) throw errors.serverBusy(entity);
  }

  /** @internal how long to hold the answer to a settlement on `entity` (0: none). */
  settlementDelayMs(entity: string): number {
    const rule = this.match('delay-settlements', entity, () => true);
    return rule?.kind === 'delay-settlements' ? rule.delayMs : 0;
  }

  private match(
    kind: FaultRule['kind'],
    entity: string,
    accepts: (rule: ActiveFaultRule) => boolean,
  ): ActiveFaultRule | undefined {
    const queue = entity.split('/')[0]!.toLowerCase();
    for (const rule of this.rules) {
      if (rule.kind !== kind || !accepts(rule)) continue;
      if (rule.entity !== undefined && rule.entity.toLowerCase() !== queue) continue;
      rule.hits++;
      if (rule.hits <= (rule.skip ?? 0)) continue;
      if (rule.times !== undefined && rule.hits - (rule.skip ?? 0) >= rule.times)
        this.remove(rule.id);
      return rule;
    }
    return undefined;
  }

  private bound(): FaultActions {
    if (!this.actions) throw new Error('the emulator is not running');
    return this.actions;
  }
}
