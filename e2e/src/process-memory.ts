import { readFile } from 'node:fs/promises';

const MIB = 1024 * 1024;

/** A process's resident set size in MiB, from `/proc/<pid>/status` (Linux). */
export async function residentMib(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return (Number(kib) * 1024) / MIB;
}

/** Samples taken while something runs: the highest and the last. */
export interface Samples {
  readonly count: number;
  readonly max: number;
  readonly last: number;
}

/**
 * Calls `sample` every `intervalMs` until `work` settles, and returns what
 * it saw (the value at the end included), so a peak between two checks of
 * the caller is not missed.
 */
export async function sampleDuring(
  sample: () => Promise<number>,
  intervalMs: number,
  work: Promise<unknown>,
): Promise<Samples> {
  let done = false;
  const finished = work.finally(() => (done = true));
  let count = 0;
  let max = -Infinity;
  let last = Number.NaN;
  const take = async () => {
    last = await sample();
    max = Math.max(max, last);
    count += 1;
  };
  while (!done) {
    await take();
    await Promise.race([finished, new Promise((r) => setTimeout(r, intervalMs))]);
  }
  await finished;
  await take();
  return { count, max, last };
}
