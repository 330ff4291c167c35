/**
 * Duplicate detection by `MessageId` within a time window
 * (https://learn.microsoft.com/azure/service-bus-messaging/duplicate-detection):
 * a message whose id was accepted within the window is acknowledged to its
 * sender and dropped. The window is the same for every id, so ids expire in
 * the order they were seen and a Map's insertion order is the expiry order.
 */
export class DuplicateDetector {
  private readonly seen = new Map<string, number>();
  private readonly windowMs: number;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /**
   * True when `messageId` was recorded within the window; otherwise records
   * it (at `nowMs`) and returns false.
   */
  checkAndRecord(messageId: string, nowMs: number): boolean {
    this.prune(nowMs);
    if (this.seen.has(messageId)) return true;
    this.seen.set(messageId, nowMs + this.windowMs);
    return false;
  }

  /** Records an id seen at `seenAtMs` (restoring history after a restart). */
  restore(messageId: string, seenAtMs: number): void {
    this.seen.delete(messageId);
    this.seen.set(messageId, seenAtMs + this.windowMs);
  }

  /** The ids in the window with the time each was seen (for a snapshot). */
  entries(nowMs: number): Array<[string, number]> {
    this.prune(nowMs);
    return [...this.seen].map(([id, expires]) => [id, expires - this.windowMs]);
  }

  private prune(nowMs: number): void {
    for (const [id, expiresAtMs] of this.seen) {
      if (expiresAtMs > nowMs) break;
      this.seen.delete(id);
    }
  }
}
