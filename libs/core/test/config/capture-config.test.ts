import { describe, expect, it } from 'vitest';
import { ConfigError, isConfigError, loadCaptureConfig } from '../../src/index.ts';

function problemsOf(env: Record<string, string>) {
  try {
    loadCaptureConfig(env);
  } catch (error) {
    if (isConfigError(error)) return error;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('capture configuration', () => {
  it('names every problem at once: missing URI, non-numeric batch size, unknown transport', () => {
    const error = problemsOf({ TRIBUTARY_BATCH_MAX_EVENTS: 'lots', TRIBUTARY_TRANSPORT: 'kafka' });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.retryable).toBe(false);
    expect(error.problems.map((p) => p.setting).sort()).toEqual([
      'MONGODB_URI',
      'TRIBUTARY_BATCH_MAX_EVENTS',
      'TRIBUTARY_TRANSPORT',
    ]);
    expect(error.message).toContain('MONGODB_URI: is required');
    expect(error.message).toContain(
      'TRIBUTARY_BATCH_MAX_EVENTS: expected a whole number from 1 to 100000, got "lots"',
    );
    expect(error.message).toContain(
      'TRIBUTARY_TRANSPORT: expected one of bullmq, servicebus, got "kafka"',
    );
  });

  it('applies defaults when only the URI is given', () => {
    const config = loadCaptureConfig({ MONGODB_URI: 'mongodb://127.0.0.1:27017/?replicaSet=rs0' });
    expect(config).toMatchObject({
      scope: 'deployment',
      transport: 'bullmq',
      redisUrl: 'redis://127.0.0.1:6379',
      batchMaxEvents: 500,
      partitionCount: 16,
      partitionKey: 'namespace',
      includeNamespaces: [],
    });
  });

  it('never echoes a secret that fails validation', () => {
    const error = problemsOf({ MONGODB_URI: 'postgres://admin:hunter2@db' });
    expect(error.message).toContain(
      'MONGODB_URI: expected a URL starting with mongodb:// or mongodb+srv://',
    );
    expect(error.message).not.toContain('hunter2');
  });

  it('requires the database and collection its scope names', () => {
    const error = problemsOf({
      MONGODB_URI: 'mongodb://h/?replicaSet=rs0',
      TRIBUTARY_CAPTURE_SCOPE: 'collection',
    });
    expect(error.problems.map((p) => p.setting)).toEqual([
      'TRIBUTARY_CAPTURE_DATABASE',
      'TRIBUTARY_CAPTURE_COLLECTION',
    ]);
  });

  it('reports cross-field problems together with field problems', () => {
    const error = problemsOf({
      MONGODB_URI: 'mongodb://h/?replicaSet=rs0',
      TRIBUTARY_CAPTURE_SCOPE: 'database',
      TRIBUTARY_BATCH_MAX_WAIT_MS: '-5',
    });
    expect(error.problems.map((p) => p.setting).sort()).toEqual([
      'TRIBUTARY_BATCH_MAX_WAIT_MS',
      'TRIBUTARY_CAPTURE_DATABASE',
    ]);
  });

  it('needs the lake settings too, because it reads the checkpoints kept there', () => {
    const error = problemsOf({
      MONGODB_URI: 'mongodb://h/?replicaSet=rs0',
      TRIBUTARY_LAKE: 'adls',
    });
    expect(error.problems.map((p) => p.setting)).toEqual(['ADLS_FILESYSTEM', 'ADLS_ACCOUNT_URL']);
  });

  it('needs a Service Bus connection when that transport is chosen', () => {
    const error = problemsOf({
      MONGODB_URI: 'mongodb://h/?replicaSet=rs0',
      TRIBUTARY_TRANSPORT: 'servicebus',
    });
    expect(error.problems.map((p) => p.setting)).toEqual(['SERVICEBUS_CONNECTION_STRING']);
    expect(error.message).toContain(
      'TRIBUTARY_TRANSPORT=servicebus needs SERVICEBUS_CONNECTION_STRING (a shared access policy’s connection string) or SERVICEBUS_NAMESPACE',
    );
  });

  it('keeps batches on Service Bus small enough for a dead letter’s record of what is in the lake', () => {
    const base = {
      MONGODB_URI: 'mongodb://h/?replicaSet=rs0',
      TRIBUTARY_TRANSPORT: 'servicebus',
      SERVICEBUS_NAMESPACE: 'tributary-test.servicebus.windows.net',
    };
    const error = problemsOf({ ...base, TRIBUTARY_BATCH_MAX_EVENTS: '5001' });
    expect(error.problems.map((p) => p.setting)).toEqual(['TRIBUTARY_BATCH_MAX_EVENTS']);
    expect(error.message).toMatch(/more than 5000 events per batch/);
    expect(loadCaptureConfig({ ...base, TRIBUTARY_BATCH_MAX_EVENTS: '5000' }).batchMaxEvents).toBe(
      5000,
    );
    expect(
      loadCaptureConfig({
        ...base,
        TRIBUTARY_TRANSPORT: 'bullmq',
        TRIBUTARY_BATCH_MAX_EVENTS: '50000',
      }).batchMaxEvents,
    ).toBe(50000);
  });

  it('parses namespace lists and refuses malformed entries', () => {
    const config = loadCaptureConfig({
      MONGODB_URI: 'mongodb://h/?replicaSet=rs0',
      TRIBUTARY_INCLUDE_NAMESPACES: 'shop.orders, shop.*,crm',
    });
    expect(config.includeNamespaces).toEqual(['shop.orders', 'shop.*', 'crm']);
    const error = problemsOf({
      MONGODB_URI: 'mongodb://h/?replicaSet=rs0',
      TRIBUTARY_EXCLUDE_NAMESPACES: 'shop orders',
    });
    expect(error.problems[0]?.setting).toBe('TRIBUTARY_EXCLUDE_NAMESPACES');
  });
});
