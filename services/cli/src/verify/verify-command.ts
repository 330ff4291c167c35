import { EXIT } from '../cli-error.ts';
import type { Command } from '../command.ts';
import { renderVerify } from './render-verify.ts';
import { runVerify } from './run-verify.ts';
import { verifyOptions } from './verify-options.ts';

/** `tributary verify [--source] [--since ISO | --resume-token T] [--namespace db.coll]`. */
export const verifyCommand: Command = {
  name: 'verify',
  summary: 'Checks the lake line by line, and against MongoDB when MONGODB_URI is set',
  usage: '[--source] [--since ISO | --resume-token T] [--namespace db.coll]',
  help: [
    'Reads every committed line of the lake (progress on stderr) and reports, per namespace:',
    '  unparseable  lines that are not Extended JSON with their _tributary metadata (file:line)',
    '  duplicate    an ordering key on more than one line (replay files included), with both places',
    "  order        a key not greater than the one before it in its partition's files of a directory",
    '  misplaced    a line outside the directory its namespace and event time give, or its partition',
    '  file         a file not named part-<pppp>[-replay]-<firstKey>.jsonl or not after its first key,',
    '               a last line without newline in a file no checkpoint lists as open',
    'A last line still being written in an open file is in flight, not a problem.',
    '',
    'With MONGODB_URI (or --source), against the source:',
    '  documents  the latest state of each document rebuilt from the lake against each collection',
    '             the lake holds, as it is now: missing, extra, differing documents;',
    '  events     a replay of the change stream from the oldest line in the lake (or --since /',
    '             --resume-token) through now, matched by resume token: events a checkpoint covers',
    '             that are not in the lake, and lines the stream does not have.',
    'A difference is in flight, not a problem, when the source shows a change to the document that no',
    'checkpoint covers yet and the lake does not hold. When MongoDB no longer has the history, events',
    'are not compared, and a difference counts as in flight when its partition’s checkpoint is behind',
    "the source's operation time. Source documents the lake never saw and no replayed change touched",
    'are untracked (they predate capture), not problems.',
    '',
    "Operators' resume-point moves ('tributary resume-point set', markers under _tributary/markers/) are",
    'listed. A source event a gap marker covers — of a partition it names, after its from and before',
    'its to — that the lake lacks is skipped, not missing, and so is a document that differs only by',
    'such events: the operator accepted that loss. An overlap marker changes nothing.',
    '',
    'Exit code: 0 no problems; 1 problems found; 64 usage; 69 a system cannot be reached.',
    '',
    'Options:',
    '  --source            compare with MongoDB (an error without MONGODB_URI)',
    '  --since ISO         replay the change stream from this time (2026-11-21T13:00:00Z)',
    '  --resume-token T    replay after this resume token ({"_data":"82…"} or the _data alone)',
    '  --namespace db.coll only this collection',
  ].join('\n'),
  options: {
    source: { type: 'boolean', default: false },
    since: { type: 'string' },
    'resume-token': { type: 'string' },
    namespace: { type: 'string' },
  },
  positionals: { min: 0, max: 0 },
  async run(ctx, args) {
    const report = await runVerify(ctx, verifyOptions(args, ctx.config));
    ctx.out.print(ctx.json ? JSON.stringify(report, null, 2) : renderVerify(report));
    return report.clean ? EXIT.ok : EXIT.findings;
  },
};
