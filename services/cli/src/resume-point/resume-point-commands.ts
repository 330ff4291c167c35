import { PRESENCE_FRESH_MS, PRESENCE_INTERVAL_MS } from '@tributary/checkpoint';
import { EXIT } from '../cli-error.ts';
import type { Command, CommandContext } from '../command.ts';
import { readResumePoint } from './read-resume-point.ts';
import { PRESENCE_RECHECK_MARGIN_MS } from './refuse-while-capture-runs.ts';
import { renderResumePoint } from './render-resume-point.ts';
import { resumePointReport } from './resume-point-report.ts';
import { setResumePoint } from './set-resume-point.ts';

export const showResumePoint: Command = {
  name: 'resume-point show',
  summary: "Capture's resume point, an operator's move of it, and its place in the oplog",
  usage: '',
  help: [
    'Where capture resumes when it starts now, by its own rule: after the oldest partition',
    "checkpoint (or from capture's origin while a partition has none), or where an operator",
    "moved it with 'tributary resume-point set' while that move still applies — with its key,",
    'clusterTime and resume token, and which partition holds it back. Then the move stored (a',
    'gap or an overlap; pending or passed), whether capture runs (its presence record), and,',
    "with MONGODB_URI, the oplog window and the resume point's headroom in it.",
    '',
    'Exit status: 0; 69 when the checkpoints cannot be read.',
  ].join('\n'),
  options: {},
  positionals: { min: 0, max: 0 },
  run: runShow,
};

export const setResumePointCommand: Command = {
  name: 'resume-point set',
  summary: "Moves capture's resume point (capture stopped; asks first; marks the lake)",
  usage: '--time ISO | --token T [--yes]',
  help: [
    "Moves capture's resume point, for when its history is gone (capture stopped with lost",
    'history: the oplog rolled past its checkpoints) and the events in between may be given up.',
    `Capture must be stopped: the command refuses while capture reported in the last ${PRESENCE_FRESH_MS / 1000} s; a`,
    `report that looks older is read again after ${(PRESENCE_INTERVAL_MS + PRESENCE_RECHECK_MARGIN_MS) / 1000} s, since capture's clock may be behind this`,
    "machine's: if capture reported meanwhile, it runs, and the command refuses. It says where",
    'the point moves from and to and what that means, and asks.',
    '',
    'A GAP (the new point is later): capture never reads the events in between (those already',
    'on the queue still reach the lake). The point is a floor: every start and every re-read of',
    'lost batches begins there or later, until a later move replaces it. An OVERLAP (earlier):',
    'capture re-reads from there once; writers drop what they have, so nothing is written twice.',
    '',
    'Before the move is stored, one line is written to the lake at',
    '_tributary/markers/resume-point-<when>.jsonl (never data; verification skips it) saying',
    'the resume point moved, which way, from where to where, when, and for a gap which',
    'partitions miss events. A crash between the two leaves a marker of a move that did not',
    'happen; running the command again writes a second one, which supersedes it.',
    '',
    'Where to (exactly one):',
    '  --time ISO   from this time on (UTC to the second, e.g. 2026-11-21T13:00:00Z), inclusive',
    "  --token T    from this resume token's clusterTime on, inclusive: its _data hex text, or",
    '               {"_data":"82…"} as the lake\'s lines (_tributary.resumeToken) carry it',
    '',
    'Options:',
    '  --yes        do not ask; without it the command asks on the terminal, and with no',
    '               terminal it refuses and changes nothing',
    '  --json       the move done, as one JSON document (the plan goes to standard error)',
    '',
    'With MONGODB_URI the new point is checked against the oplog window: a point MongoDB no',
    'longer has is refused.',
    '',
    'Exit status: 0 moved; 1 refused (capture runs, not confirmed, outside the oplog, capture',
    'never started), nothing changed; 64 missing, conflicting or malformed options; 69 the',
    'lake, checkpoints or MongoDB cannot be reached (when that is after the marker was written,',
    'it says so: the move was not stored; run the same command again).',
  ].join('\n'),
  options: {
    time: { type: 'string' },
    token: { type: 'string' },
    yes: { type: 'boolean', short: 'y', default: false },
  },
  positionals: { min: 0, max: 0 },
  run: setResumePoint,
};

/** `tributary resume-point show | set`. */
export const RESUME_POINT_COMMANDS: readonly Command[] = [showResumePoint, setResumePointCommand];

async function runShow(ctx: CommandContext): Promise<number> {
  const report = resumePointReport(await readResumePoint(ctx));
  ctx.out.print(ctx.json ? JSON.stringify(report, null, 2) : renderResumePoint(report));
  return EXIT.ok;
}
