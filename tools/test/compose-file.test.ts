import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCaptureConfig, loadWriterConfig } from '@tributary/core';
import { loadConfigFile } from '@tributary/emulator-servicebus';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface ComposeService {
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  profiles?: string[];
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition?: string; required?: boolean }>;
}

/**
 * What Compose makes of `${NAME:-default}` and `${NAME}` in a value, given
 * the shell's environment `shell`.
 */
function interpolate(value: string, shell: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_all, name: string, fallback?: string) => shell[name] || (fallback ?? ''),
  );
}

// No Docker engine runs on the build machines, so the stack cannot be started
// here; this checks what can be checked without one.
describe('the local Docker Compose stack', () => {
  const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };
  const environmentOf = (name: string, shell: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(compose.services[name]?.environment ?? {}).map(([k, v]) => [
        k,
        interpolate(String(v), shell),
      ]),
    );

  it('has the services the design names', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'adls',
        'capture',
        'grafana',
        'jaeger',
        'mongodb',
        'prometheus',
        'redis',
        'servicebus',
        'writer',
      ].sort(),
    );
  });

  it('builds every image from a Dockerfile that exists', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (!service.build) continue;
      expect(
        existsSync(`${root}${service.build.dockerfile}`),
        `${name}: ${service.build.dockerfile}`,
      ).toBe(true);
    }
  });

  it('points capture at a replica set, because change streams need one', () => {
    expect(compose.services.capture?.environment?.MONGODB_URI).toMatch(/replicaSet=rs0/);
  });

  it('runs the Service Bus emulator only under the servicebus profile, from its own image', () => {
    const servicebus = compose.services.servicebus;
    expect(servicebus?.profiles).toEqual(['servicebus']);
    expect(servicebus?.build?.dockerfile).toBe('libs/emulators/servicebus/Dockerfile');
    // Capture and writers start without it (BullMQ, or a real namespace) and wait for it when it runs.
    for (const name of ['capture', 'writer']) {
      expect(compose.services[name]?.depends_on?.servicebus, name).toEqual({
        condition: 'service_healthy',
        required: false,
      });
    }
  });

  it('publishes the Service Bus emulator on the loopback only (its admin route has no authentication)', () => {
    const ports = compose.services.servicebus?.ports ?? [];
    expect(ports.length).toBeGreaterThan(0);
    for (const port of ports) expect(port).toMatch(/^127\.0\.0\.1:\d+:5672$/);
  });

  it('gives the emulator deploy/servicebus/Config.json, whose queue is the one Tributary needs', () => {
    const servicebus = compose.services.servicebus;
    const mount = servicebus?.volumes?.find((v) =>
      v.startsWith('./deploy/servicebus/Config.json:'),
    );
    expect(mount?.split(':')[1]).toBe(servicebus?.environment?.SERVICEBUS_EMULATOR_CONFIG);
    // Read by the emulator's own parser, as the container reads it.
    const { queues, ignoredProperties, ignoredTopics } = loadConfigFile(
      `${root}deploy/servicebus/Config.json`,
    );
    expect(ignoredProperties).toEqual([]);
    expect(ignoredTopics).toEqual([]);
    const queueName = compose.services.capture?.environment?.TRIBUTARY_QUEUE_NAME;
    expect(queueName).toBe(compose.services.writer?.environment?.TRIBUTARY_QUEUE_NAME);
    expect(queues.get(String(queueName))).toMatchObject({
      requiresSession: true,
      lockDurationMs: 30_000,
      maxDeliveryCount: 100,
      deadLetteringOnMessageExpiration: true,
      requiresDuplicateDetection: true,
      duplicateDetectionHistoryTimeWindowMs: 10 * 60_000,
      defaultMessageTimeToLiveMs: 14 * 24 * 3_600_000,
    });
  });

  it.each([
    ['BullMQ, by default', {}, 'bullmq'],
    [
      'Service Bus, with TRIBUTARY_TRANSPORT=servicebus',
      { TRIBUTARY_TRANSPORT: 'servicebus' },
      'servicebus',
    ],
  ] as const)(
    'gives capture and writers a valid configuration on %s',
    (_name, shell, transport) => {
      const capture = loadCaptureConfig(environmentOf('capture', shell));
      const writer = loadWriterConfig(environmentOf('writer', shell));
      expect(capture.transport).toBe(transport);
      expect(writer.transport).toBe(transport);
      if (transport === 'servicebus') {
        // The emulator's service name and port inside the stack.
        expect(capture.serviceBusConnectionString).toMatch(/^Endpoint=sb:\/\/servicebus:5672;/);
        expect(writer.serviceBusConnectionString).toBe(capture.serviceBusConnectionString);
      }
    },
  );
});
