import type { FaultContext, FaultKind, FaultOutcome, FaultPlanner } from '../chaos-fault.ts';
import { checkpointHold, dataFlushHold, untilFired } from './held-requests.ts';

/** Where in a batch's write the owner of a partition is killed. */
type Moment =
  | { readonly at: 'in-append'; readonly flush: 'before' | 'after' }
  | { readonly at: 'before-checkpoint' }
  | { readonly at: 'before-ack' };

function describe(moment: Moment): string {
  switch (moment.at) {
    case 'in-append':
      return moment.flush === 'before'
        ? 'inside an append, before its flush commits'
        : 'inside an append, after its flush committed but before the answer';
    case 'before-checkpoint':
      return 'between flush and checkpoint';
    case 'before-ack':
      return 'between checkpoint and acknowledgement';
  }
}

/**
 * Kills the owner of `partition` at `moment`, found by holding its request
 * in the ADLS emulator:
 *
 * - in an append: the commit (flush) of one of its data files, held before
 *   or after it is performed;
 * - between flush and checkpoint: a data-file flush is held after it
 *   committed, then the checkpoint store that follows is held before it is
 *   performed — the batch's lines are in the lake, its checkpoint is not;
 * - between checkpoint and acknowledgement: the same, but the checkpoint is
 *   held after it was stored — the writer never acknowledges the batch.
 *
 * Once the held request is there, the owner (who stored the partition's
 * checkpoint, and so holds its lease) is SIGKILLed, the held requests are
 * abandoned as a dead client leaves them (never performed or answered), and
 * the writer is started again under the same name.
 */
async function killOwner(
  { deployment }: FaultContext,
  partition: number,
  moment: Moment,
): Promise<FaultOutcome> {
  const { faults } = deployment.adls;
  const where = describe(moment);
  const missed = (why: string): FaultOutcome => ({
    summary: `kill the owner of partition ${partition} ${where}: did not land (${why})`,
    landed: false,
  });
  const held: string[] = [];
  let killed = false;
  try {
    let target: string;
    if (moment.at === 'in-append') {
      target = faults.add(dataFlushHold(partition, moment.flush));
      held.push(target);
    } else {
      const flush = faults.add(dataFlushHold(partition, 'after'));
      held.push(flush);
      if (!(await untilFired(deployment.adls, flush))) return missed('no flush of its data files');
      target = faults.add(
        checkpointHold(partition, moment.at === 'before-ack' ? 'after' : 'before'),
      );
      held.push(target);
      // The flush's answer goes out: the owner goes on to store its checkpoint.
      faults.remove(flush);
    }
    if (!(await untilFired(deployment.adls, target)))
      return missed(moment.at === 'in-append' ? 'no flush of its data files' : 'no checkpoint');
    const owner = await deployment.ownerOf(partition);
    if (owner === undefined || !deployment.isRunning(owner))
      return missed(`its checkpoint names ${owner ?? 'no writer'}, which is not running`);
    await deployment.kill(owner);
    killed = true;
    // Spawning takes no turn of the event loop: the held requests are
    // abandoned below before the new process can send anything.
    deployment.startWriter(owner);
    return { summary: `kill writer ${owner} ${where} (partition ${partition})`, landed: true };
  } finally {
    // After the kill, held requests are the dead writer's: dropped, never
    // performed late. Otherwise (missed, or the harness failed) they go on.
    for (const id of held) {
      if (killed) faults.abandon(id);
      else faults.remove(id);
    }
  }
}

/** A planner that kills a data partition's owner at `moment`. */
function planner(kind: FaultKind, moment: (flush: 'before' | 'after') => Moment): FaultPlanner {
  return (random, { dataPartitions }) => {
    const partition = random.pick(dataPartitions);
    const at = moment(random.pick(['before', 'after'] as const));
    return { kind, inject: (context) => killOwner(context, partition, at) };
  };
}

/** SIGKILL a partition's owner inside an append (flush held before or after it commits). */
export const killWriterInAppend = planner('kill-writer-in-append', (flush) => ({
  at: 'in-append',
  flush,
}));

/** SIGKILL a partition's owner after its batch's lines are in the lake, before their checkpoint. */
export const killWriterBeforeCheckpoint = planner('kill-writer-before-checkpoint', () => ({
  at: 'before-checkpoint',
}));

/** SIGKILL a partition's owner after its checkpoint is stored, before it acknowledges the batch. */
export const killWriterBeforeAck = planner('kill-writer-before-ack', () => ({
  at: 'before-ack',
}));
