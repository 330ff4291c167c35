import { spawnSync } from 'node:child_process';
import { ServiceBusClient } from '@azure/service-bus';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLI_PATH,
  startEmulatorProcess,
  type EmulatorProcess,
} from '../support/emulator-process.ts';

describe('the standalone command', () => {
  const running: EmulatorProcess[] = [];
  afterEach(async () => {
    for (const p of running.splice(0)) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  });

  it('serves the queues it is given and stops cleanly on SIGTERM', async () => {
    const emulator = await startEmulatorProcess([
      '--port',
      '0',
      '--queue',
      'orders',
      '--queue',
      'partitions:session',
    ]);
    running.push(emulator);
    // Outside the container the default stays the loopback: the admin route has no authentication.
    expect(emulator.output()).toMatch(/^Service Bus emulator listening on 127\.0\.0\.1:\d+$/m);
    expect(emulator.output()).not.toMatch(/no authentication/);
    const client = new ServiceBusClient(emulator.connectionString, {
      retryOptions: { maxRetries: 0 },
    });
    try {
      await client.createSender('orders').sendMessages({ body: 'from the cli' });
      const [m] = await client
        .createReceiver('orders', { receiveMode: 'receiveAndDelete' })
        .receiveMessages(1, { maxWaitTimeInMs: 5000 });
      expect(m?.body).toBe('from the cli');
      await client.createSender('partitions').sendMessages({ body: 'p', sessionId: 'p-1' });
      const health = await fetch(`http://127.0.0.1:${emulator.port}/_emulator/health`);
      expect(await health.json()).toEqual({ status: 'ok' });
    } finally {
      await client.close();
    }
    emulator.child.kill('SIGTERM');
    expect(await emulator.exited).toBe(0);
  });

  it('takes the key from the environment and never prints it', async () => {
    const emulator = await startEmulatorProcess(
      ['--port', '0', '--queue', 'q', '--key-name', 'app'],
      {
        SERVICEBUS_EMULATOR_KEY: 'very-secret-key',
      },
    );
    running.push(emulator);
    expect(emulator.output()).not.toContain('very-secret-key');
    expect(emulator.connectionString).toContain('SharedAccessKey=<your-key>');
    const client = new ServiceBusClient(
      emulator.connectionString.replace('<your-key>', 'very-secret-key'),
      {
        retryOptions: { maxRetries: 0 },
      },
    );
    try {
      await client.createSender('q').sendMessages({ body: 'authorised' });
    } finally {
      await client.close();
    }
  });

  it.each(['--help', '-h'])('%s prints every option with its default and exits 0', (flag) => {
    const run = spawnSync(process.execPath, [CLI_PATH, flag], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    for (const option of [
      '--port PORT',
      '--host HOST',
      '--config FILE',
      '--queue NAME[:session]',
      '--auto-create-queues',
      '--data-dir DIR',
      '--sync-writes',
      '--key-name NAME',
      '--key KEY',
      '-h, --help',
    ])
      expect(run.stdout).toContain(option);
    expect(run.stdout).toContain('(default: 5672)');
    expect(run.stdout).toContain('(default: RootManageSharedAccessKey)');
  });

  it('names an unknown option, points to --help and exits 64 (EX_USAGE) without starting', () => {
    const run = spawnSync(process.execPath, [CLI_PATH, '--bogus'], { encoding: 'utf8' });
    expect(run.status).toBe(64);
    expect(run.stderr).toContain("unknown option '--bogus'");
    expect(run.stderr).toContain('--help');
    expect(run.stdout).toBe('');
  });

  it('refuses bad arguments with exit code 64 and a bad configuration with exit code 1', () => {
    const bad = spawnSync(process.execPath, [CLI_PATH, '--port', 'seventy'], { encoding: 'utf8' });
    expect(bad.status).toBe(64);
    expect(bad.stderr).toMatch(/--port must be/);
    const badQueue = spawnSync(process.execPath, [CLI_PATH, '--queue', 'a:sessionful'], {
      encoding: 'utf8',
    });
    expect(badQueue.status).toBe(64);
    const badConfig = spawnSync(
      process.execPath,
      [CLI_PATH, '--port', '0', '--config', '/no/such/Config.json'],
      {
        encoding: 'utf8',
      },
    );
    expect(badConfig.status).toBe(1);
    expect(badConfig.stderr).toMatch(/cannot read the configuration file/);
  });
});
