import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../src/server/loopback-host.ts';

describe('loopback hosts (where the unauthenticated admin route is safe)', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])(
    '%s is reachable from this machine only',
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );
  it.each(['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.internal', '::ffff:10.0.0.1'])(
    '%s may be reachable from elsewhere',
    (host) => expect(isLoopbackHost(host)).toBe(false),
  );
});
