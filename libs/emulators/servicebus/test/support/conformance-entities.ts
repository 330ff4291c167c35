import type { QueueProperties } from '../../src/config/queue-properties.ts';
import { formatIsoDuration } from '../../src/config/iso-duration.ts';

/**
 * The queues every conformance test file uses, in one place: this emulator
 * and a real namespace get them created (uniquely named) per run; Microsoft's
 * emulator cannot create entities, so `microsoftEmulatorConfig()` gives the
 * `Config.json` to start it with (`npm exec -- node
 * libs/emulators/servicebus/test/support/print-microsoft-emulator-config.ts`).
 *
 * `onOurEmulator` picks the short lock and duplicate windows only this
 * emulator allows (the service's minimums are 5 s and 20 s).
 */
export function conformanceQueues(
  onOurEmulator: boolean,
): Record<string, Record<string, Partial<QueueProperties>>> {
  const shortLockMs = onOurEmulator ? 1500 : 5000;
  const dedupWindowMs = onOurEmulator ? 1000 : 20_000;
  return {
    'send-receive': {
      basic: {},
      batches: {},
      deletes: {},
      big: onOurEmulator ? { maxMessageSizeBytes: 1024 * 1024 } : {},
      // Microsoft's emulator allows at most PT1H.
      ttl: { defaultMessageTimeToLiveMs: 3_600_000 },
    },
    settlement: { settle: {}, short: { lockDurationMs: shortLockMs }, props: {} },
    management: { peek: {}, schedule: {}, empty: {}, fresh: {}, oversized: {} },
    sessions: {
      sessions: { requiresSession: true },
      next: { requiresSession: true },
      expiring: { requiresSession: true, lockDurationMs: shortLockMs },
    },
    'dead-letter': {
      retries: { maxDeliveryCount: 2 },
      expiring: { deadLetteringOnMessageExpiration: true },
      vanishing: {},
      dlq: {},
    },
    duplicates: {
      dedup: {
        requiresDuplicateDetection: true,
        duplicateDetectionHistoryTimeWindowMs: dedupWindowMs,
      },
      plain: {},
    },
  };
}

/** The fixed queue name of `alias` in `suite` on Microsoft's emulator. */
export function fixedQueueName(suite: string, alias: string): string {
  return `${suite}.${alias}`;
}

/** A `Config.json` for Microsoft's emulator with every conformance queue. */
export function microsoftEmulatorConfig(): unknown {
  const queues = Object.entries(conformanceQueues(false)).flatMap(([suite, aliases]) =>
    Object.entries(aliases).map(([alias, p]) => ({
      Name: fixedQueueName(suite, alias),
      Properties: {
        DeadLetteringOnMessageExpiration: p.deadLetteringOnMessageExpiration ?? false,
        // Microsoft's emulator's default and maximum.
        DefaultMessageTimeToLive: formatIsoDuration(p.defaultMessageTimeToLiveMs ?? 3_600_000),
        DuplicateDetectionHistoryTimeWindow: formatIsoDuration(
          p.duplicateDetectionHistoryTimeWindowMs ?? 20_000,
        ),
        ForwardDeadLetteredMessagesTo: '',
        ForwardTo: '',
        LockDuration: formatIsoDuration(p.lockDurationMs ?? 60_000),
        MaxDeliveryCount: p.maxDeliveryCount ?? 10,
        RequiresDuplicateDetection: p.requiresDuplicateDetection ?? false,
        RequiresSession: p.requiresSession ?? false,
      },
    })),
  );
  return {
    UserConfig: {
      Namespaces: [{ Name: 'sbemulatorns', Queues: queues, Topics: [] }],
      Logging: { Type: 'File' },
    },
  };
}
