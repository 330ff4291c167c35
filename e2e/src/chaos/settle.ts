import { setTimeout as pause } from 'node:timers/promises';
import type { ChaosDeployment } from './chaos-deployment.ts';
import { type LakeAudit, auditLake, lakeSignature } from './lake-audit.ts';

/** How long to wait for the lake once the load stopped. */
export interface SettleOptions {
  /** Give up after this long in all. */
  readonly timeoutMs: number;
  /**
   * The lake must stay unchanged this long before it is audited — longer
   * than a lease takes to expire and a redelivery to be written, so a
   * duplicate written late is counted too.
   */
  readonly quietMs: number;
  /** Give up once the lake stayed unchanged this long with events still missing. */
  readonly stallMs: number;
  /** Stops the wait (it then rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

/** The final audit and how it was reached. */
export interface Settled {
  readonly audit: LakeAudit;
  /** True when the lake became complete and then stayed quiet. */
  readonly complete: boolean;
  readonly waitedMs: number;
  /** Why the wait ended, in words. */
  readonly why: string;
}

const POLL_MS = 1000;

/**
 * Waits for the lake to become complete and then quiet, bounded by a
 * timeout, and returns the audit of what it holds then. Polls only the
 * listing (file count and bytes) and audits — reading every file — once it
 * stayed unchanged for `quietMs`; a stalled pipeline is given up on after
 * `stallMs` without change, its audit still reporting what is missing.
 */
export async function settle(
  deployment: ChaosDeployment,
  options: SettleOptions,
): Promise<Settled> {
  const started = Date.now();
  const source = deployment.mongo.oplogEntries();
  const audit = () => auditLake(deployment.lake, source, deployment.partitionCount);
  let signature = '';
  let changedAt = started;
  let audited: { signature: string; result: LakeAudit } | undefined;
  for (;;) {
    const now = Date.now();
    const current = await lakeSignature(deployment.lake);
    if (current !== signature) {
      signature = current;
      changedAt = now;
    }
    const quietFor = now - changedAt;
    if (quietFor >= options.quietMs && audited?.signature !== signature) {
      audited = { signature, result: await audit() };
      if (audited.result.missing.length === 0)
        return done(audited.result, true, `complete, and quiet for ${seconds(quietFor)}`);
    }
    if (audited?.signature === signature && quietFor >= options.stallMs)
      return done(
        audited.result,
        false,
        `gave up: the lake stayed unchanged for ${seconds(quietFor)} with ${audited.result.missing.length} events missing`,
      );
    if (now - started >= options.timeoutMs)
      return done(await audit(), false, `gave up: still changing after ${seconds(now - started)}`);
    await pause(POLL_MS, undefined, { signal: options.signal });
  }

  function done(result: LakeAudit, complete: boolean, why: string): Settled {
    return { audit: result, complete, waitedMs: Date.now() - started, why };
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
