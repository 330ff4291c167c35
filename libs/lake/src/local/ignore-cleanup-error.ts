/**
 * Runs a cleanup whose failure must not hide the operation's own outcome
 * (removing a temporary file or a lock after the real work succeeded or
 * already failed). A leftover is harmless: reserved names are never listed,
 * and stale locks expire.
 */
export async function ignoreCleanupError(cleanup: () => Promise<unknown>): Promise<void> {
  try {
    await cleanup();
  } catch (_error) {
    // Deliberately ignored, see above: the leftover is invisible and expires.
  }
}
