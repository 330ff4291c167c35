/**
 * ISO 8601 durations as Service Bus and Microsoft's emulator write them in
 * entity properties ("PT1M", "P14D", "PT0.5S", and the service's "forever",
 * `TimeSpan.MaxValue` = "P10675199DT2H48M5.4775807S"). Years and months are
 * refused: they have no fixed length, and the service never uses them.
 */
const PATTERN =
  /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

const UNIT_MS = [7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000];

/** Milliseconds in an ISO 8601 duration, or `undefined` when `text` is not one. */
export function parseIsoDuration(text: string): number | undefined {
  const match = PATTERN.exec(text.trim());
  if (!match || text.trim() === 'P' || text.trim().endsWith('T')) return undefined;
  let ms = 0;
  let any = false;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = match[i + 1];
    if (part === undefined) continue;
    any = true;
    ms += Number(part) * UNIT_MS[i]!;
  }
  return any ? Math.round(ms) : undefined;
}

/** The duration as ISO 8601 text (whole and fractional seconds), for messages and listings. */
export function formatIsoDuration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `P${ms / 86_400_000}D`;
  let rest = ms;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = rest / 1000;
  return `PT${hours ? `${hours}H` : ''}${minutes ? `${minutes}M` : ''}${seconds || (!hours && !minutes) ? `${seconds}S` : ''}`;
}
