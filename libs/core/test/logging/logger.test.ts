import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { REDACTED, SecretRedactor, createLogger } from '../../src/index.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, destination };
}

describe('secret redaction', () => {
  it.each([
    [
      'mongodb://app:s3cret@db1,db2/?replicaSet=rs0',
      `mongodb://app:${REDACTED}@db1,db2/?replicaSet=rs0`,
    ],
    ['redis://:p4ss@127.0.0.1:6379', `redis://:${REDACTED}@127.0.0.1:6379`],
    [
      'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abc123==;EndpointSuffix=core.windows.net',
      `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${REDACTED};EndpointSuffix=core.windows.net`,
    ],
    [
      'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=xyz=',
      `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=${REDACTED}`,
    ],
    [
      'https://a.dfs.core.windows.net/fs?sv=2023&sig=AbC%2B&se=x',
      `https://a.dfs.core.windows.net/fs?sv=2023&sig=${REDACTED}&se=x`,
    ],
    ['mongodb://127.0.0.1:27017/?replicaSet=rs0', 'mongodb://127.0.0.1:27017/?replicaSet=rs0'],
  ])('hides credentials in %s', (text, expected) => {
    expect(new SecretRedactor().redactText(text)).toBe(expected);
  });

  it('hides registered secrets wherever they appear', () => {
    const redactor = new SecretRedactor(['tok-123456']);
    expect(redactor.redactText('header tok-123456 and again tok-123456')).toBe(
      `header ${REDACTED} and again ${REDACTED}`,
    );
  });
});

describe('the logger', () => {
  it('never prints a secret in messages, fields, errors or causes', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ name: 'test', secrets: ['plain-secret-value'], destination });
    const cause = new Error('connect failed for mongodb://u:pw-in-cause@h');
    const err = new Error('could not use AccountKey=KEYKEY;', { cause });
    logger.error(
      { err, uri: 'redis://:pw-in-field@h:6379', token: 'plain-secret-value' },
      'failed with plain-secret-value',
    );
    const output = lines.join('');
    for (const secret of ['pw-in-cause', 'KEYKEY', 'pw-in-field', 'plain-secret-value']) {
      expect(output).not.toContain(secret);
    }
    const record = JSON.parse(lines[0] ?? '{}');
    expect(record.msg).toBe(`failed with ${REDACTED}`);
    expect(record.err.type).toBe('Error');
    expect(record.err.cause.message).toBe(`connect failed for mongodb://u:${REDACTED}@h`);
  });
});
