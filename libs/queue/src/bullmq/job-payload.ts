/**
 * What a BullMQ job carries for one batch. BullMQ stores job data as JSON,
 * so the opaque body travels as base64; `failedAttempts` lives here too so
 * the count survives a crash and a change of owner (it is durable as soon as
 * `fail` returns).
 */
export interface JobPayload {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly failedAttempts: number;
  /** Set on a dead letter: keys of its events that reached the lake. */
  readonly eventsInLake?: readonly string[];
  /** When the batch first failed (ISO 8601): set by the first `fail`, or by `deadLetter` without one. */
  readonly firstFailedAt?: string;
}

/** The payload of a freshly published batch. */
export function encodePayload(
  body: Uint8Array,
  headers: Readonly<Record<string, string>> | undefined,
): JobPayload {
  return {
    body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64'),
    headers: { ...headers },
    failedAttempts: 0,
  };
}

/** The payload of a job, or `undefined` when the job was not written by this adapter. */
export function decodePayload(data: unknown): JobPayload | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { body, headers, failedAttempts, eventsInLake, firstFailedAt } = data as Record<
    string,
    unknown
  >;
  if (typeof body !== 'string') return undefined;
  if (firstFailedAt !== undefined && typeof firstFailedAt !== 'string') return undefined;
  if (
    eventsInLake !== undefined &&
    !(Array.isArray(eventsInLake) && eventsInLake.every((key) => typeof key === 'string'))
  )
    return undefined;
  if (!Number.isInteger(failedAttempts) || (failedAttempts as number) < 0) return undefined;
  if (typeof headers !== 'object' || headers === null) return undefined;
  const entries = Object.entries(headers);
  if (!entries.every(([, v]) => typeof v === 'string')) return undefined;
  return {
    body,
    headers: Object.fromEntries(entries) as Record<string, string>,
    failedAttempts: failedAttempts as number,
    ...(eventsInLake === undefined ? {} : { eventsInLake: eventsInLake as string[] }),
    ...(firstFailedAt === undefined ? {} : { firstFailedAt }),
  };
}

/** The batch bytes of a payload. */
export function bodyOf(payload: JobPayload): Uint8Array {
  const buffer = Buffer.from(payload.body, 'base64');
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
