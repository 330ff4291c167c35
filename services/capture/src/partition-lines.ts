import {
  type BatchEntry,
  type CapturedEvent,
  type ChangeBatch,
  type StreamPosition,
  batchEntryBytes,
  batchHeaderBytes,
} from '@tributary/core';

/** How batches are cut. */
export interface BatchLimits {
  readonly batchMaxEvents: number;
  /** The largest encoded batch: the smaller of the setting and what the transport carries. */
  readonly batchMaxBytes: number;
  readonly batchMaxWaitMs: number;
  readonly heartbeatIntervalMs: number;
}

/**
 * Capture's place in the change stream: the last event's key with the
 * newest resume token (an event's, or the stream's postBatchResumeToken),
 * and a counter that grows every time the token moves.
 */
export interface TrackedPosition extends StreamPosition {
  readonly seq: number;
}

interface Pending {
  readonly entries: BatchEntry[];
  /** Σ of the entries' encoded sizes (see `batchEntryBytes`). */
  bytes: number;
  readonly startedAt: number;
  last: TrackedPosition;
}

/** One partition's line of batches, as capture sends it. */
interface Line {
  /** Position key of the last batch sent (after a rewind: the checkpoint's). */
  previousKey: string;
  generation: number;
  /** Sequence of the next batch in the generation. */
  sequence: number;
  /** Where the last batch sent in this generation stood (none yet after a rewind). */
  sent: TrackedPosition | undefined;
  sentAt: number;
}

/** What the lines need from capture. */
export interface LineHooks {
  /** Puts a batch on the queue; awaited, so a partition's batches stay in order. */
  readonly publish: (batch: ChangeBatch) => Promise<void>;
  /** Stages an event too large for a message in the lake; resolves with its claim path. */
  readonly stage: (partition: number, captured: CapturedEvent) => Promise<string>;
  /** Milliseconds since the epoch, for new generations. */
  readonly clock: () => number;
}

/**
 * Every partition's line of batches: cuts each partition's events into
 * batches (by count, exact encoded bytes and time), names each batch's
 * predecessor, generation and sequence, sends heartbeats that carry
 * capture's position to partitions with nothing to send, and probes
 * ({@link probe}) at a line's own last position when capture asks.
 *
 * An event at or below its partition's previous key is not sent again: the
 * partition has it (it was sent, or the checkpoint covers it). That is what
 * makes a rewind harmless — capture may re-read the stream from anywhere
 * before its position, and each line picks up after what it already has.
 *
 * Per event the work is constant, whatever the number of partitions:
 * batches are due in the order they were started, and heartbeats are sent
 * on a timer ({@link heartbeat}), not per event.
 */
export class PartitionLines {
  readonly #limits: BatchLimits;
  readonly #hooks: LineHooks;
  readonly #lines: Line[];
  /** Partitions with pending events, in the order their batch was started. */
  readonly #started = new Map<number, Pending>();

  constructor(previousKeys: readonly string[], limits: BatchLimits, hooks: LineHooks) {
    this.#limits = limits;
    this.#hooks = hooks;
    const generation = hooks.clock();
    this.#lines = previousKeys.map((previousKey) => ({
      previousKey,
      generation,
      sequence: 0,
      sent: undefined,
      sentAt: 0,
    }));
  }

  /** The partition's current rewind generation. */
  generation(partition: number): number {
    return this.#line(partition).generation;
  }

  /** Events held and not yet sent, across partitions. */
  get pendingEvents(): number {
    let n = 0;
    for (const pending of this.#started.values()) n += pending.entries.length;
    return n;
  }

  /**
   * Starts the partition's line again after `checkpointKey` in a new
   * generation: what it holds is dropped (capture reads it again) and
   * everything after the checkpoint is sent again.
   */
  rewind(partition: number, checkpointKey: string): void {
    const line = this.#line(partition);
    line.previousKey = checkpointKey;
    line.generation = Math.max(line.generation + 1, this.#hooks.clock());
    line.sequence = 0;
    line.sent = undefined;
    line.sentAt = 0;
    this.#started.delete(partition);
  }

  /**
   * Adds an event read at `position`; sends the partition's batch first
   * when the event would not fit, and after when the batch is full. An
   * event the partition already has is ignored.
   */
  async add(
    partition: number,
    captured: CapturedEvent,
    eventBytes: number,
    position: TrackedPosition,
    now: number,
  ): Promise<void> {
    const line = this.#line(partition);
    if (captured.key <= line.previousKey) return;
    const limit = this.#limits.batchMaxBytes;
    const header = (previousKey: string) =>
      batchHeaderBytes({
        partition,
        generation: line.generation,
        sequence: line.sequence,
        previousKey,
        position: { key: captured.key, token: captured.event._id },
      });
    let entry: BatchEntry = captured;
    // Alone, the event would follow what is pending (sent first), so that
    // batch names the pending one's last key as its predecessor.
    const aloneAfter = this.#started.get(partition)?.last.key ?? line.previousKey;
    if (header(aloneAfter) + batchEntryBytes(0, { eventBytes }) > limit) {
      // Too large for any message: the event waits in the lake.
      const claim = await this.#hooks.stage(partition, captured);
      entry = { key: captured.key, capturedAt: captured.capturedAt, claim, bytes: eventBytes };
    }
    let pending = this.#started.get(partition);
    if (pending) {
      const index = pending.entries.length;
      const grown = pending.bytes + this.#entryBytes(entry, index, eventBytes);
      // A batch carries one claim-checked event at most, so a writer never
      // holds more than one such event per batch in memory.
      const secondClaim = 'claim' in entry && pending.entries.some((e) => 'claim' in e);
      if (header(line.previousKey) + grown > limit || secondClaim) {
        await this.#send(partition);
        pending = undefined;
      }
    }
    if (!pending) {
      pending = { entries: [], bytes: 0, startedAt: now, last: position };
      this.#started.set(partition, pending);
    }
    pending.bytes += this.#entryBytes(entry, pending.entries.length, eventBytes);
    pending.entries.push(entry);
    pending.last = position;
    if (pending.entries.length >= this.#limits.batchMaxEvents) await this.#send(partition);
  }

  /** Sends the batches that have waited `batchMaxWaitMs`, oldest first, and stops at the first that has not. */
  async flushDue(now: number): Promise<void> {
    for (const [partition, pending] of this.#started) {
      if (now - pending.startedAt < this.#limits.batchMaxWaitMs) return;
      await this.#send(partition);
    }
  }

  /** Sends everything held (before a rewind of other partitions, and at shutdown). */
  async flushAll(): Promise<void> {
    for (const partition of [...this.#started.keys()]) await this.#send(partition);
  }

  /**
   * Sends `position` to every partition that holds nothing unsent, has heard
   * nothing for `heartbeatIntervalMs`, and is behind it — which it truly
   * is, since all its events up to `position` are on the queue. A position
   * at the partition's own key but with a newer token (the stream's
   * postBatchResumeToken) moves the stored resume point too, so a quiet
   * partition never falls off the oplog. Returns how many were sent.
   */
  async heartbeat(position: TrackedPosition, now: number): Promise<number> {
    let sent = 0;
    for (let partition = 0; partition < this.#lines.length; partition += 1) {
      const line = this.#line(partition);
      if (this.#started.has(partition)) continue;
      if (now - line.sentAt < this.#limits.heartbeatIntervalMs) continue;
      const ahead =
        position.key > line.previousKey ||
        (position.key === line.previousKey && position.seq > (line.sent?.seq ?? -1));
      if (!ahead) continue;
      await this.#publish(partition, [], position, now);
      sent += 1;
    }
    return sent;
  }

  /**
   * Sends the partition a probe: an empty batch at the position of the
   * last batch its line sent in this generation (same key and resume
   * token), naming that batch as its predecessor, with the next sequence.
   * A writer that has that batch takes it as a heartbeat that moves
   * nothing; one that never got it sees a gap and reports it, which is
   * what capture needs when batches vanished from the queue with nothing
   * sent after them (see `StallProbes`). Returns false, sending
   * nothing, when the line has sent nothing in this generation: then it has
   * nothing outstanding either.
   */
  async probe(partition: number, now: number): Promise<boolean> {
    const sent = this.#line(partition).sent;
    if (!sent) return false;
    await this.#publish(partition, [], sent, now);
    return true;
  }

  /** The bytes `entry` adds at `index` (a claimed entry carries its path, not the event). */
  #entryBytes(entry: BatchEntry, index: number, eventBytes: number): number {
    return 'claim' in entry
      ? batchEntryBytes(index, { claim: entry.claim })
      : batchEntryBytes(index, { eventBytes });
  }

  async #send(partition: number): Promise<void> {
    const pending = this.#started.get(partition);
    this.#started.delete(partition);
    if (!pending || pending.entries.length === 0) return;
    await this.#publish(partition, pending.entries, pending.last, pending.startedAt);
  }

  async #publish(
    partition: number,
    events: BatchEntry[],
    position: TrackedPosition,
    now: number,
  ): Promise<void> {
    const line = this.#line(partition);
    const batch: ChangeBatch = {
      partition,
      generation: line.generation,
      sequence: line.sequence,
      events,
      // An event batch stands where its last event was read; a heartbeat at capture's
      // position; a probe at the line's own last one.
      position: { key: position.key, token: position.token },
      previousKey: line.previousKey,
    };
    await this.#hooks.publish(batch);
    line.previousKey = batch.position.key;
    line.sequence += 1;
    line.sent = position;
    line.sentAt = now;
  }

  #line(partition: number): Line {
    const line = this.#lines[partition];
    if (!line)
      throw new RangeError(`partition ${partition} is outside 0…${this.#lines.length - 1}`);
    return line;
  }
}
