/** A cell: text, a number (right-aligned) or nothing (shown as `-`). */
export type Cell = string | number | undefined;

/**
 * A plain-text table for people: a header row, a rule, one row per line,
 * columns padded to their widest cell, numbers aligned right.
 */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
): string {
  const text = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => isNumeric(row[i])));
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...text.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '─'.repeat(w))), ...text.map(line)].join('\n');
}

function cellText(cell: Cell): string {
  if (cell === undefined || cell === '') return '-';
  return typeof cell === 'number' ? cell.toLocaleString('en-US') : cell;
}

function isNumeric(cell: Cell): boolean {
  return typeof cell === 'number' || cell === undefined;
}

/** `1.2 s`, `3 m 04 s`, `2 h 05 m`, `3 d 4 h` — a duration for people. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(1)} s`;
  const s = Math.floor(abs / 1000);
  if (s < 3600) return `${sign}${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
  if (s < 86_400)
    return `${sign}${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} m`;
  return `${sign}${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** An instant in UTC to the second, for tables. */
export function formatTime(at: Date | undefined): string {
  if (!at || Number.isNaN(at.getTime())) return '-';
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
