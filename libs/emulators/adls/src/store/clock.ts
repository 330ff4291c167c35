/**
 * ETags in the service's form (`"0x8DE..."`: .NET ticks in hex) that
 * strictly increase, so every flush yields a new ETag even within one
 * millisecond.
 */
const FILETIME_EPOCH_OFFSET = 116_444_736_000_000_000n;
const DOTNET_EPOCH_OFFSET = 621_355_968_000_000_000n;
let lastTick = 0n;

/** A new, never-repeated ETag. */
export function nextEtag(now = Date.now()): string {
  let tick = BigInt(now) * 10_000n + DOTNET_EPOCH_OFFSET;
  if (tick <= lastTick) tick = lastTick + 1n;
  lastTick = tick;
  return `"0x${tick.toString(16).toUpperCase()}"`;
}

/** Milliseconds since 1970 as a Windows file time string (the `creationTime` in path listings). */
export function toFileTime(ms: number): string {
  return (BigInt(ms) * 10_000n + FILETIME_EPOCH_OFFSET).toString();
}

let formattedSecond = Number.NaN;
let formatted = '';

/** An HTTP date (`Last-Modified`); most answers in one second share it, so the last one is kept. */
export function httpDate(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== formattedSecond) {
    formattedSecond = second;
    formatted = new Date(second * 1000).toUTCString();
  }
  return formatted;
}
