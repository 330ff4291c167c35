import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataLakeServiceClient } from '@azure/storage-file-datalake';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLI_PATH,
  startEmulatorProcess,
  type EmulatorProcess,
} from '../support/emulator-process.ts';

describe('standalone command', () => {
  const dirs: string[] = [];
  const procs: EmulatorProcess[] = [];
  afterEach(async () => {
    for (const proc of procs.splice(0)) {
      if (proc.child.exitCode === null && proc.child.signalCode === null)
        proc.child.kill('SIGKILL');
      await proc.exited;
    }
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'prints a working connection string and stops cleanly on %s',
    async (signal) => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'adls-cli-'));
      dirs.push(dataDir);
      const proc = await startEmulatorProcess(['--port', '0', '--data-dir', dataDir]);
      procs.push(proc);
      expect(proc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
      const client = DataLakeServiceClient.fromConnectionString(proc.connectionString, {
        retryOptions: { maxTries: 1 },
      });
      const fs = client.getFileSystemClient('cli');
      await fs.create();
      await fs.getFileClient('hello.txt').upload(Buffer.from('hi'));
      proc.child.kill(signal);
      expect(await proc.exited).toBe(0);
      expect(proc.output()).toContain(`${signal} received, stopping`);
    },
  );

  it.each(['--help', '-h'])('%s prints every option with its default and exits 0', (flag) => {
    const run = spawnSync(process.execPath, [CLI_PATH, flag], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    for (const option of [
      '--port PORT',
      '--host HOST',
      '--data-dir DIR',
      '--account-name NAME',
      '--account-key BASE64',
      '--sync-writes',
      '-h, --help',
    ])
      expect(run.stdout).toContain(option);
    expect(run.stdout).toContain('(default: 10004)');
    expect(run.stdout).toContain('(default: devstoreaccount1)');
  });

  it('names an unknown option, points to --help and exits 64 (EX_USAGE) without starting', () => {
    const run = spawnSync(process.execPath, [CLI_PATH, '--bogus'], { encoding: 'utf8' });
    expect(run.status).toBe(64);
    expect(run.stderr).toContain("unknown option '--bogus'");
    expect(run.stderr).toContain('--help');
    expect(run.stdout).toBe('');
  });
});
