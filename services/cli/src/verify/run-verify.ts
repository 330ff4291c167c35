import { encodePathSegment } from '@tributary/core';
import { LAKE_CHECKS, type NamespaceTally, UNKNOWN_NAMESPACE, scanLake } from '@tributary/lake';
import type { CommandContext } from '../command.ts';
import { DocumentStates } from './document-states.ts';
import type { Routing } from './event-comparison.ts';
import { MAX_EXAMPLES } from './examples.ts';
import { throwIfInterrupted } from './interrupted.ts';
import { PartitionCoverage } from './partition-coverage.ts';
import { ResumeGapRule } from './resume-gap-rule.ts';
import { markerSummary, readResumeMarkers } from './resume-markers.ts';
import { type SourceVerification, verifyAgainstSource } from './source-verification.ts';
import type { VerifyOptions } from './verify-options.ts';
import {
  type Finding,
  type InFlight,
  type NamespaceRow,
  type VerifyReport,
  problemsOf,
  totalRow,
} from './verify-report.ts';

/**
 * Runs the verification: the partition checkpoints first (what they vouch
 * for is in the lake by then), then the operators' resume-point markers
 * (what they gave up), then every committed line of the lake, then — with
 * the source — the comparisons with MongoDB.
 */
export async function runVerify(
  ctx: CommandContext,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const { config, out } = ctx;
  const lake = await ctx.systems.lake();
  const checkpointStore = await ctx.systems.checkpoints();
  const coverage = new PartitionCoverage(
    await checkpointStore.readAllPartitions(config.partitionCount),
    await checkpointStore.readOrigin(),
  );
  const markers = await readResumeMarkers(lake);
  const states = options.source ? new DocumentStates() : undefined;
  const scan = await scanLake(lake, {
    pathTemplate: config.pathTemplate,
    ...lakeScope(config.pathTemplate, options.namespace),
    openFiles: coverage.openFiles,
    ...(states ? { onLine: (line) => states.add(line) } : {}),
    onProgress: (p) => {
      throwIfInterrupted(ctx.signal);
      out.progress(
        `Reading the lake: ${number(p.files)} of ${number(p.totalFiles)} files, ${number(p.lines)} lines`,
      );
    },
    maxFindings: MAX_EXAMPLES,
  });
  out.progress(`Read ${number(scan.files.length)} files, ${number(scan.lines)} lines`, true);

  const routing: Routing = {
    partitionCount: config.partitionCount,
    partitionKey: config.partitionKey,
  };
  const source = states
    ? await verifyAgainstSource(
        ctx,
        scan,
        states,
        coverage,
        new ResumeGapRule(markers.found),
        routing,
        options,
      )
    : undefined;

  const namespaces = rows(scan.tallies, source);
  const total = totalRow(namespaces, source !== undefined, source?.events !== undefined);
  const problems = problemsOf(total);
  const findings: Finding[] = [...scan.findings, ...(source?.findings ?? [])].map((f) => ({
    check: f.check,
    namespace: displayName(f.namespace),
    message: f.message,
  }));
  const inFlight: InFlight[] = [
    ...(scan.inFlight > 0
      ? [
          {
            kind: 'line' as const,
            namespace: 'total',
            message: `${scan.inFlight} last line${scan.inFlight === 1 ? '' : 's'} of files still being written (no newline yet)`,
          },
        ]
      : []),
    ...(source?.inFlight ?? []).map((i) => ({ ...i, namespace: displayName(i.namespace) })),
  ];
  return {
    clean: problems === 0,
    problems,
    lake: { files: scan.files.length, lines: scan.lines, linesInFlight: scan.inFlight },
    ...(source ? { source: source.summary } : {}),
    namespaces,
    total,
    findings,
    inFlight,
    markers: markers.found.map(markerSummary),
    skipped: (source?.skipped ?? []).map((s) => ({ ...s, namespace: displayName(s.namespace) })),
    notes: [
      ...markers.unreadable.map(
        ({ path, reason }) =>
          `${reason.replace(/\.$/, '')} (${path}): it was left out, so the events its move may have skipped count as missing.`,
      ),
      ...(source?.notes ?? []),
    ],
  };
}

/** One row per namespace the lake or the source comparison names, by name. */
function rows(
  tallies: ReadonlyMap<string, NamespaceTally>,
  source: SourceVerification | undefined,
): NamespaceRow[] {
  const names = new Set([
    ...tallies.keys(),
    ...(source?.documents.keys() ?? []),
    ...(source?.events ? source.scope : []),
  ]);
  return [...names]
    .filter((name) => name !== UNKNOWN_NAMESPACE || tallies.has(name))
    .sort()
    .map((name) => {
      const tally = tallies.get(name);
      const documents = source?.documents.get(name);
      const events =
        source?.events &&
        (source.events.get(name) ?? {
          matched: 0,
          missing: 0,
          skipped: 0,
          unexpected: 0,
          inFlight: 0,
        });
      return {
        namespace: displayName(name),
        lines: tally?.lines ?? 0,
        linesInFlight: tally?.inFlight ?? 0,
        ...(Object.fromEntries(LAKE_CHECKS.map((check) => [check, tally?.[check] ?? 0])) as Pick<
          NamespaceRow,
          (typeof LAKE_CHECKS)[number]
        >),
        ...(documents ? { documents } : {}),
        ...(events ? { events } : {}),
      };
    });
}

/** Namespaces as people read them. */
function displayName(namespace: string): string {
  if (namespace === '') return '(deployment)';
  if (namespace === UNKNOWN_NAMESPACE) return '(unknown)';
  return namespace;
}

/**
 * With `--namespace`, only that collection's lines are read; when the
 * template starts with `{db}/{coll}/`, only its directories are listed.
 */
function lakeScope(template: string, namespace: string | undefined) {
  if (!namespace) return {};
  const dot = namespace.indexOf('.');
  const [db, coll] = [namespace.slice(0, dot), namespace.slice(dot + 1)];
  return {
    ...(template.startsWith('{db}/{coll}/')
      ? { prefix: `${encodePathSegment(db)}/${encodePathSegment(coll)}` }
      : {}),
    includeNamespace: (ns: string) => ns === namespace,
  };
}

function number(n: number): string {
  return n.toLocaleString('en-US');
}
