import { isTributaryError } from '@tributary/core';
import type { BatchPublisher } from '@tributary/queue';
import { CliError, EXIT } from '../cli-error.ts';
import type { Command, CommandArgs, CommandContext } from '../command.ts';
import { readStatus } from './read-status.ts';
import { renderStatus } from './render-status.ts';
import { exitCodeOfReport, statusReport } from './status-report.ts';

/** Seconds between rounds of `--watch` without a number. */
export const DEFAULT_WATCH_SECONDS = 5;

/** `tributary status [--watch [SECONDS]]`. */
export const statusCommand: Command = {
  name: 'status',
  summary: 'Partitions, owners, lag, backlog, dead letters and the resume point, with warnings',
  usage: '[--watch [SECONDS]]',
  help: [
    'Per partition: the writer holding it, its checkpoint (key, clusterTime, when stored),',
    'its lag behind the source, open files and a gap being healed. Then the queue (backlog,',
    "dead letters), capture's resume point and, with MONGODB_URI, where that point stands in",
    'the oplog window.',
    '',
    'Exit code: 0 all well; 1 warnings (dead letters, a gap, a partition without an owner',
    'while batches wait, the resume point within TRIBUTARY_HEADROOM_WARN_PERCENT of the',
    'oldest end of the oplog); 69 a system could not be reached.',
    '',
    'Options:',
    `  --watch [SECONDS]  show the status again every SECONDS (default ${DEFAULT_WATCH_SECONDS}) until Ctrl-C;`,
    '                     the exit code is the last round’s (--json: one document per line)',
  ].join('\n'),
  options: { watch: { type: 'boolean', default: false } },
  positionals: { min: 0, max: 1 },
  run: runStatus,
};

async function runStatus(ctx: CommandContext, args: CommandArgs): Promise<number> {
  const everyMs = watchIntervalMs(args);
  // One publisher for every round: it only counts the backlog (Service Bus opens a sender per publisher).
  const publisher = ctx.systems.transport().publisher();
  if (everyMs === undefined) return round(ctx, publisher, false);
  let code: number = EXIT.ok;
  while (!ctx.signal.aborted) {
    code = await round(ctx, publisher, true, everyMs);
    await pause(everyMs, ctx.signal);
  }
  return code;
}

/** One look: read, print, and the exit code of what it saw. */
async function round(
  ctx: CommandContext,
  publisher: BatchPublisher,
  watching: boolean,
  everyMs = 0,
): Promise<number> {
  let inputs;
  try {
    inputs = await readStatus(ctx, publisher);
  } catch (error) {
    // Watching, a round that cannot read the checkpoints says why and the next one tries again.
    if (!watching || !isTributaryError(error)) throw error;
    ctx.out.warn(
      `${new Date(ctx.now()).toISOString()} the checkpoints cannot be read: ${error.message}`,
    );
    return error.retryable ? EXIT.unavailable : EXIT.findings;
  }
  const report = statusReport(inputs);
  if (ctx.json) ctx.out.print(JSON.stringify(report, null, watching ? undefined : 2));
  else {
    if (watching) ctx.out.print(`── every ${everyMs / 1000} s, Ctrl-C to stop ${'─'.repeat(40)}`);
    ctx.out.print(renderStatus(report));
  }
  return exitCodeOfReport(report);
}

/** `--watch [SECONDS]` in milliseconds, or undefined without `--watch`. */
function watchIntervalMs(args: CommandArgs): number | undefined {
  const [seconds] = args.positionals;
  if (args.values.watch !== true) {
    if (seconds !== undefined)
      throw new CliError('USAGE', `'status' takes no argument without --watch (got '${seconds}').`);
    return undefined;
  }
  if (seconds === undefined) return DEFAULT_WATCH_SECONDS * 1000;
  const value = Number(seconds);
  if (!/^\d+(\.\d+)?$/.test(seconds) || !(value >= 0.5) || value > 86_400)
    throw new CliError(
      'USAGE',
      `--watch takes a number of seconds from 0.5 to 86400 (got '${seconds}').`,
    );
  return value * 1000;
}

/** Waits `ms`, or less when `signal` is aborted. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
