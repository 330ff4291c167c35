import { describe, expect, it } from 'vitest';
import { entitiesFromConfig } from '../../src/config/config-file.ts';
import { formatIsoDuration, parseIsoDuration } from '../../src/config/iso-duration.ts';
import { DEFAULT_QUEUE_PROPERTIES, FOREVER_MS } from '../../src/config/queue-properties.ts';
import { isEmulatorError } from '../../src/emulator-error.ts';
import { microsoftEmulatorConfig } from '../support/conformance-entities.ts';

describe('ISO 8601 durations', () => {
  it.each([
    ['PT1M', 60_000],
    ['PT5S', 5000],
    ['PT0.5S', 500],
    ['P14D', 14 * 86_400_000],
    ['P1DT2H3M4S', 86_400_000 + 7_384_000],
    ['P1W', 7 * 86_400_000],
    ['P10675199DT2H48M5.4775807S', 922_337_203_685_478],
  ])('%s is %d ms', (text, ms) => {
    expect(parseIsoDuration(text)).toBe(ms);
  });

  it.each(['', 'P', 'PT', '1M', 'P1M', 'P1Y', 'PT-1S', 'abc'])(
    '%j is not a duration the service uses',
    (text) => {
      expect(parseIsoDuration(text)).toBeUndefined();
    },
  );

  it.each([60_000, 5000, 1500, 14 * 86_400_000, 3_723_000])(
    'formats %d ms so that it parses back',
    (ms) => {
      expect(parseIsoDuration(formatIsoDuration(ms))).toBe(ms);
    },
  );
});

describe('Config.json (Microsoft emulator shape)', () => {
  const sample = {
    UserConfig: {
      Namespaces: [
        {
          Name: 'sbemulatorns',
          Queues: [
            {
              Name: 'queue.1',
              Properties: {
                DeadLetteringOnMessageExpiration: false,
                DefaultMessageTimeToLive: 'PT1H',
                DuplicateDetectionHistoryTimeWindow: 'PT20S',
                ForwardDeadLetteredMessagesTo: '',
                ForwardTo: '',
                LockDuration: 'PT1M',
                MaxDeliveryCount: 3,
                RequiresDuplicateDetection: false,
                RequiresSession: false,
              },
            },
            { Name: 'Sessions', Properties: { RequiresSession: true } },
            { Name: 'plain' },
          ],
          Topics: [{ Name: 'topic.1', Properties: {}, Subscriptions: [] }],
        },
      ],
      Logging: { Type: 'File' },
    },
  };

  it('reads the sample file of Microsoft emulator', () => {
    const config = entitiesFromConfig(sample);
    expect(config.queues.get('queue.1')).toEqual({
      ...DEFAULT_QUEUE_PROPERTIES,
      defaultMessageTimeToLiveMs: 3_600_000,
      duplicateDetectionHistoryTimeWindowMs: 20_000,
      lockDurationMs: 60_000,
      maxDeliveryCount: 3,
    });
    // The name keeps the case the file gives it.
    expect(config.queues.get('Sessions')?.requiresSession).toBe(true);
    expect(config.queues.get('plain')).toEqual(DEFAULT_QUEUE_PROPERTIES);
    expect(config.ignoredTopics).toEqual(['topic.1']);
    expect(DEFAULT_QUEUE_PROPERTIES.defaultMessageTimeToLiveMs).toBe(FOREVER_MS);
  });

  it('names every problem of a bad file at once', () => {
    let message = '';
    try {
      entitiesFromConfig({
        UserConfig: {
          Namespaces: [
            {
              Queues: [
                {
                  Name: 'a',
                  Properties: { LockDuration: 'one minute', MaxDeliveryCount: 0, Colour: 'red' },
                },
                { Name: 'a' },
                { Name: '$bad' },
                { Name: 'f', Properties: { ForwardTo: 'elsewhere' } },
              ],
            },
          ],
        },
      });
    } catch (error) {
      expect(isEmulatorError(error) && error.code).toBe('invalid-configuration');
      message = (error as Error).message;
    }
    expect(message).toContain('Queues[0].Properties.LockDuration');
    expect(message).toContain('Queues[0].Properties.Colour: unknown property');
    expect(message).toContain("queue 'a' is defined twice");
    expect(message).toContain('Queues[2].Name');
    expect(message).toContain('ForwardTo: auto-forwarding is not emulated');
  });

  it('accepts documented queue properties it does not model, naming each one it ignores', () => {
    const config = entitiesFromConfig({
      UserConfig: {
        Namespaces: [
          {
            Queues: [
              {
                Name: 'orders',
                Properties: {
                  LockDuration: 'PT30S',
                  EnablePartitioning: false,
                  MaxSizeInMegabytes: 1024,
                  AutoDeleteOnIdle: 'P10675199DT2H48M5.4775807S',
                },
              },
            ],
          },
        ],
      },
    });
    expect(config.queues.get('orders')?.lockDurationMs).toBe(30_000);
    expect(config.ignoredProperties).toEqual([
      'UserConfig.Namespaces[0].Queues[0].Properties: not emulated, ignored: EnablePartitioning, MaxSizeInMegabytes, AutoDeleteOnIdle',
    ]);
  });

  it('reads the Config.json generated for running the conformance suite on Microsoft emulator', () => {
    const config = entitiesFromConfig(microsoftEmulatorConfig());
    expect(config.queues.size).toBeGreaterThan(15);
    expect(config.queues.get('sessions.expiring')).toMatchObject({
      requiresSession: true,
      lockDurationMs: 5000,
    });
    expect(config.queues.get('duplicates.dedup')).toMatchObject({
      requiresDuplicateDetection: true,
      duplicateDetectionHistoryTimeWindowMs: 20_000,
    });
  });

  it('refuses a document that is not in the Config.json shape', () => {
    expect(() => entitiesFromConfig({ Namespaces: [] })).toThrow(/UserConfig/);
    expect(() => entitiesFromConfig(null)).toThrow(/config: expected an object/);
  });
});
