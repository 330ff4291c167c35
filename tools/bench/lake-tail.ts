import { type Lake, STATE_PREFIX } from '@tributary/lake';

/** One line as the tail first saw it. */
export interface LandedEvent {
  /** When the tail first read the line (ms since the epoch). */
  readonly visibleAtMs: number;
  /**
   * When the source recorded the event (ms since the epoch): the change
   * event's `wallTime` when it has one (millisecond precision), otherwise its
   * `clusterTime` seconds (one-second precision).
   */
  readonly eventAtMs: number;
}

/**
 * Follows the lake as a reader would: lists it, reads only the bytes each
 * data file gained since the last look, and stamps every line with the time
 * it first became visible. Reading only the new bytes keeps a poll cheap as
 * the lake grows, so the poll interval, not the lake's size, bounds how
 * late a line is noticed.
 */
export class LakeTail {
  readonly #openLake: () => Promise<Lake>;
  /** Bytes already read of each data file: always the end of a whole line. */
  readonly #offsets = new Map<string, number>();
  /** Every resume token (`_data`) seen, with when it was first seen. */
  readonly #landed = new Map<string, LandedEvent>();
  #running: Promise<void> | undefined;
  #stopped = false;
  #failure: unknown;

  /** `openLake` is called on each poll; it should return the same client every time. */
  constructor(openLake: () => Promise<Lake>) {
    this.#openLake = openLake;
  }

  /** The error that ended polling, if one did. */
  get failure(): unknown {
    return this.#failure;
  }

  /** Distinct events seen so far. */
  get landed(): number {
    return this.#landed.size;
  }

  /** Every event seen, by resume token. */
  events(): ReadonlyMap<string, LandedEvent> {
    return this.#landed;
  }

  /** Polls every `intervalMs` until {@link stop}; a failed poll ends polling and sets {@link failure}. */
  start(intervalMs: number): void {
    this.#running ??= (async () => {
      while (!this.#stopped) {
        const started = Date.now();
        await this.poll();
        const rest = intervalMs - (Date.now() - started);
        if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
      }
    })().catch((error: unknown) => {
      // Kept, not thrown: nothing awaits the loop until stop(), which rethrows it.
      this.#failure = error;
    });
  }

  /** Stops polling after the poll under way; rethrows the error that ended polling, if any. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Reads what the lake gained since the last poll. */
  async poll(): Promise<void> {
    const lake = await this.#openLake();
    const grown: { path: string; from: number }[] = [];
    for await (const entry of lake.list('')) {
      if (entry.path.startsWith(STATE_PREFIX)) continue;
      const from = this.#offsets.get(entry.path) ?? 0;
      if (entry.length > from) grown.push({ path: entry.path, from });
    }
    // The listing is what shows the lines exist; stamping after it errs late
    // by at most one poll, never early.
    const visibleAtMs = Date.now();
    for (const { path, from } of grown) {
      const bytes = await lake.read(path, from);
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
      // Commits are whole lines, but a reader must not trust that: a partial
      // line is left for the next poll.
      const end = text.lastIndexOf('\n') + 1;
      for (const line of text.slice(0, end).split('\n')) {
        if (line.length > 0) this.#record(line, visibleAtMs);
      }
      this.#offsets.set(path, from + Buffer.byteLength(text.slice(0, end)));
    }
  }

  #record(line: string, visibleAtMs: number): void {
    // Plain JSON.parse, not a full Extended JSON decode: only three fields are
    // needed, and the bench process also hosts both emulators.
    const event = JSON.parse(line) as {
      _tributary: { resumeToken: { _data: string } };
      wallTime?: { $date: string | { $numberLong: string } };
      clusterTime?: { $timestamp: { t: number } };
    };
    const token = event._tributary.resumeToken._data;
    // A duplicate keeps its first sighting; the oplog comparison counts duplicates.
    if (this.#landed.has(token)) return;
    this.#landed.set(token, { visibleAtMs, eventAtMs: eventTimeMs(event) });
  }
}

/** The event's source time in ms: `wallTime` when present, else `clusterTime` seconds. */
function eventTimeMs(event: {
  wallTime?: { $date: string | { $numberLong: string } };
  clusterTime?: { $timestamp: { t: number } };
}): number {
  const date = event.wallTime?.$date;
  if (typeof date === 'string') return Date.parse(date);
  if (date !== undefined) return Number(date.$numberLong);
  return (event.clusterTime?.$timestamp.t ?? Number.NaN) * 1000;
}
