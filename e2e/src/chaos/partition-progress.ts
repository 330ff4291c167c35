import type { ChaosDeployment } from './chaos-deployment.ts';

/** How long a partition's checkpoint may stand still under load before it is called stalled. */
const STALL_MS = 10_000;

/**
 * Watches every partition's stored checkpoint between rounds. Under the
 * steady load (and capture's heartbeats for partitions without data) each
 * one moves every second or so; one that stands still for long is stalled,
 * and the round it last moved in points at the fault that stalled it. For
 * diagnosis only: the verdict comes from the lake and the oplog.
 */
export class PartitionProgress {
  readonly #last = new Map<number, { key: string; at: number; label: string }>();
  readonly #stalled = new Set<number>();
  readonly #stalls: string[] = [];

  /** Reads the checkpoints; returns a note for each partition that stalled or moved again. */
  async observe(deployment: ChaosDeployment, label: string): Promise<string[]> {
    const now = Date.now();
    const notes: string[] = [];
    const checkpoints = await deployment.checkpoints();
    for (let partition = 0; partition < deployment.partitionCount; partition += 1) {
      const key = checkpoints.get(partition)?.position?.key ?? '';
      const last = this.#last.get(partition);
      if (!last || last.key !== key) {
        if (this.#stalled.delete(partition))
          notes.push(`partition ${partition}: checkpoint moves again (${label})`);
        this.#last.set(partition, { key, at: now, label });
        continue;
      }
      if (now - last.at >= STALL_MS && !this.#stalled.has(partition)) {
        this.#stalled.add(partition);
        const note = `partition ${partition}: checkpoint has not moved for ${Math.round((now - last.at) / 1000)} s (last moved by ${last.label})`;
        this.#stalls.push(`${note}, seen after ${label}`);
        notes.push(note);
      }
    }
    return notes;
  }

  /** Every stall seen during the run, in words. */
  get stalls(): readonly string[] {
    return this.#stalls;
  }
}
