import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface ComposeService {
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
}

// No Docker engine runs on the build machines, so the stack cannot be started
// here; this checks what can be checked without one.
describe('the local Docker Compose stack', () => {
  const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };

  it('has the services the design names', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['adls', 'capture', 'jaeger', 'mongodb', 'redis', 'writer'].sort(),
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
});
