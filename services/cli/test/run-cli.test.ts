import { describe, expect, it } from 'vitest';
import type { Command } from '../src/command.ts';
import { runTributary } from './run-tributary.ts';
import { runCli } from '../src/run-cli.ts';

const PASSWORD = 'hunter2-not-for-terminals';
const REDIS_URL = `redis://default:${PASSWORD}@redis.internal:6379`;
const env = (extra: Record<string, string> = {}) => ({
  TRIBUTARY_TRANSPORT: 'bullmq',
  REDIS_URL,
  TRIBUTARY_PARTITION_COUNT: '2',
  TRIBUTARY_LAKE: 'local',
  TRIBUTARY_LAKE_DIR: '/nonexistent/tributary-run-cli-test',
  TRIBUTARY_CHECKPOINT_STORE: 'lake',
  ...extra,
});

/** A command with a bug: it throws what no Tributary code translated. */
const failingWith = (thrown: unknown): Command => ({
  name: 'explode',
  summary: 'throws',
  usage: '',
  help: '',
  options: {},
  positionals: { min: 0, max: 0 },
  run: async () => {
    throw thrown;
  },
});

async function run(thrown: unknown, extraEnv: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(
    ['explode'],
    {
      env: env(extraEnv),
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
    },
    [failingWith(thrown)],
  );
  return { code, stdout, stderr };
}

describe('an error a command did not expect', () => {
  it('is said as unexpected with its message redacted, and exits 70', async () => {
    const result = await run(new TypeError(`cannot connect to ${REDIS_URL}: socket closed`));
    expect(result.code).toBe(70);
    expect(result.stderr).toBe(
      'tributary: unexpected error: cannot connect to [REDACTED]: socket closed\n',
    );
    expect(result.stdout).toBe('');
  });

  it('hides a password in a URI other than the configured one', async () => {
    const result = await run(new Error(`ECONNREFUSED redis://default:${PASSWORD}@10.0.0.7:6379`));
    expect(result.code).toBe(70);
    expect(result.stderr).not.toContain(PASSWORD);
    expect(result.stderr).toContain('unexpected error: ECONNREFUSED redis://default:[REDACTED]@');
  });

  it('prints the stack only at debug level, redacted too', async () => {
    const error = new Error(`failed on ${REDIS_URL}`);
    const quiet = await run(error);
    expect(quiet.stderr).not.toMatch(/\n\s+at /);
    const debug = await run(error, { TRIBUTARY_LOG_LEVEL: 'debug' });
    expect(debug.code).toBe(70);
    expect(debug.stderr).toMatch(/\n\s+at .*run-cli\.test\.ts/);
    expect(debug.stderr).not.toContain(PASSWORD);
  });

  it('says what was thrown when it is not an Error', async () => {
    const result = await run(`a string with ${REDIS_URL}`);
    expect(result.code).toBe(70);
    expect(result.stderr).toBe('tributary: unexpected error: a string with [REDACTED]\n');
  });

  it('leaves the exit codes of errors it expects as they were', async () => {
    const unknown = await runTributary(['no-such-command'], env());
    expect(unknown.code).toBe(64);
  });
});
