import { type Cell, renderTable } from '../output/table.ts';
import { formatInstant } from './cluster-instant.ts';
import type { MarkerSummary, NamespaceRow, VerifyCheck, VerifyReport } from './verify-report.ts';

/** How many findings of each check, and in-flight items, the text report shows. */
const SHOWN = 10;

const CHECK_NAMES: Record<VerifyCheck, string> = {
  unparseable: 'lines that do not parse',
  duplicate: 'duplicates',
  order: 'order violations',
  misplaced: 'misplaced lines',
  file: 'file problems',
  'missing-document': 'documents missing from the lake',
  'extra-document': 'documents only in the lake',
  'differing-document': 'documents that differ',
  'missing-event': 'events missing from the lake',
  'unexpected-event': 'lake events the source does not have',
};

/** The report for people: what was read, two tables, the problems, what to do. */
export function renderVerify(report: VerifyReport): string {
  const out: string[] = [];
  const { lake, source } = report;
  out.push(
    `Lake: ${count(lake.files, 'file')}, ${count(lake.lines, 'line')} read${lake.linesInFlight > 0 ? ` (${count(lake.linesInFlight, 'line')} still being written)` : ''}.`,
  );
  if (source) {
    const replay = source.replay;
    out.push(`Source: collections read as of ${source.documentsAsOf}.`);
    if (replay.status === 'compared')
      out.push(
        `Change stream replayed ${replay.after ? 'after' : 'from'} ${replay.from} through ${replay.until} (${count(replay.events ?? 0, 'event')}).`,
      );
    else if (replay.status === 'history-lost')
      out.push('Change stream: history no longer in the oplog; events not compared one by one.');
  } else out.push('Source: not compared (set MONGODB_URI to compare with MongoDB).');
  if (report.markers.length > 0) {
    out.push(
      "Resume point moved by operators ('tributary resume-point set'; markers in the lake):",
    );
    for (const marker of report.markers) out.push(`  ${markerLine(marker)}`);
  }
  out.push('', lakeTable(report));
  if (source) out.push('', sourceTable(report));
  const checks = [...new Set(report.findings.map((f) => f.check))];
  for (const check of checks) {
    const found = report.findings.filter((f) => f.check === check);
    const total = countOf(report.total, check);
    out.push('', `${capitalised(CHECK_NAMES[check])} (${check}): ${total.toLocaleString('en-US')}`);
    for (const finding of found.slice(0, SHOWN))
      out.push(`  ${finding.namespace}  ${finding.message}`);
    if (total > SHOWN)
      out.push(
        `  … and ${(total - SHOWN).toLocaleString('en-US')} more (--json lists up to 1,000)`,
      );
  }
  if (report.inFlight.length > 0) {
    out.push('', 'In flight (on their way to the lake; not problems):');
    for (const item of report.inFlight.slice(0, SHOWN))
      out.push(`  ${item.namespace}  ${item.message}`);
    if (report.inFlight.length > SHOWN) out.push(`  … and more (--json lists them)`);
  }
  const skipped = skippedCounts(report);
  if (report.skipped.length > 0) {
    out.push(
      '',
      `Skipped by an operator's resume-point move (a gap accepted; not problems): ${count(skipped.events, 'event')}, ${count(skipped.documents, 'document')}`,
    );
    for (const item of report.skipped.slice(0, SHOWN))
      out.push(`  ${item.namespace}  ${item.message}`);
    if (report.skipped.length > SHOWN) out.push(`  … and more (--json lists them)`);
  }
  for (const note of report.notes) out.push('', `Note: ${note}`);
  out.push('', verdict(report));
  return out.join('\n');
}

function lakeTable(report: VerifyReport): string {
  const rows = [...report.namespaces, report.total];
  return renderTable(
    ['namespace', 'lines', 'unparseable', 'duplicate', 'order', 'misplaced', 'file'],
    rows.map((r) => [
      r.namespace,
      r.lines,
      r.unparseable,
      r.duplicate,
      r.order,
      r.misplaced,
      r.file,
    ]),
  );
}

function sourceTable(report: VerifyReport): string {
  const rows = [...report.namespaces, report.total].filter((r) => r.documents || r.events);
  const replayed = report.source?.replay.status === 'compared';
  // Only a gap can skip anything: without one, the columns would always be empty.
  const gaps = report.markers.some((m) => m.kind === 'gap');
  const headers = [
    'namespace',
    'documents',
    'missing',
    'extra',
    'differing',
    'in flight',
    ...(gaps ? ['skipped'] : []),
    ...(replayed
      ? [
          'events',
          'missing events',
          'unexpected events',
          'events in flight',
          ...(gaps ? ['events skipped'] : []),
        ]
      : []),
  ];
  return renderTable(
    headers,
    rows.map((r): Cell[] => [
      r.namespace,
      r.documents?.source,
      r.documents?.missing,
      r.documents?.extra,
      r.documents?.differing,
      r.documents?.inFlight,
      ...(gaps ? [r.documents?.skipped] : []),
      ...(replayed
        ? [
            r.events && r.events.matched + r.events.missing + r.events.skipped,
            r.events?.missing,
            r.events?.unexpected,
            r.events?.inFlight,
            ...(gaps ? [r.events?.skipped] : []),
          ]
        : []),
    ]),
  );
}

function verdict(report: VerifyReport): string {
  if (report.clean) {
    const skipped =
      report.skipped.length > 0
        ? ` The lake lacks what operators' resume-point moves skipped (${count(skippedCounts(report).events, 'event')}), as their markers record.`
        : '';
    return report.inFlight.length > 0
      ? `No problems found; some data is still on its way (run verify again once the writers have caught up).${skipped}`
      : `No problems found.${skipped}`;
  }
  const lines = [
    `${report.problems.toLocaleString('en-US')} problem${report.problems === 1 ? '' : 's'} found. What to do:`,
  ];
  const has = (...checks: VerifyCheck[]) => checks.some((c) => countOf(report.total, c) > 0);
  if (has('unparseable', 'file'))
    lines.push(
      '- Damaged lines or files: keep them as they are, look at the named lines; a writer never leaves them, so something else wrote to the lake.',
    );
  if (has('duplicate', 'order', 'misplaced'))
    lines.push(
      '- Duplicates, order and placement: readers that order and deduplicate by _tributary.key are unaffected; report the named lines as a Tributary bug.',
    );
  if (has('missing-event', 'missing-document', 'differing-document', 'extra-document'))
    lines.push(
      "- Lost or altered data: capture will not send covered events again (writers skip what a checkpoint covers), so re-snapshot the collections named, or copy the events named from the source's oplog while it still has them.",
    );
  if (has('unexpected-event'))
    lines.push(
      '- Lines the source never produced: they came from elsewhere (another deployment, a restore) or the source rolled back writes; find out which before trusting them.',
    );
  return lines.join('\n');
}

function countOf(row: NamespaceRow, check: VerifyCheck): number {
  switch (check) {
    case 'missing-document':
      return row.documents?.missing ?? 0;
    case 'extra-document':
      return row.documents?.extra ?? 0;
    case 'differing-document':
      return row.documents?.differing ?? 0;
    case 'missing-event':
      return row.events?.missing ?? 0;
    case 'unexpected-event':
      return row.events?.unexpected ?? 0;
    default:
      return row[check];
  }
}

/** A marker in one line: kind, from → to, when it was set, and for a gap the partitions. */
function markerLine(marker: MarkerSummary): string {
  const partitions = marker.partitions
    ? `, partition${marker.partitions.length === 1 ? '' : 's'} ${marker.partitions.join(', ') || '(none)'}`
    : '';
  return `${marker.kind.padEnd(7)}  ${formatInstant(marker.from.clusterTime)} → ${formatInstant(marker.to.clusterTime)}, set ${marker.setAt}${partitions}  (${marker.path})`;
}

function skippedCounts(report: VerifyReport): { events: number; documents: number } {
  return {
    events: report.total.events?.skipped ?? 0,
    documents: report.total.documents?.skipped ?? 0,
  };
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
