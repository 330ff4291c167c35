import { describe, expect, it } from 'vitest';
import { isConfigError, loadCaptureConfig, loadWriterConfig } from '../../src/index.ts';

/** Values no message may ever contain. */
const KEY = 'c2VjcmV0LWtleS1uZXZlci1wcmludGVkLWluLWFuLWVycm9y';
const SIGNATURE_SIG = 'U0lHTkFUVVJFLW5ldmVyLXByaW50ZWQ%3D';
/** 2100-01-01T00:00:00Z: a signature that stays valid for as long as these tests live. */
const FAR_FUTURE_SECONDS = 4102444800;

const ENDPOINT = 'Endpoint=sb://tributary-prod.servicebus.windows.net/';
const KEY_AUTH = `SharedAccessKeyName=tributary-writer;SharedAccessKey=${KEY}`;
const signature = (expiresAtSeconds: number) =>
  `SharedAccessSignature sr=sb%3A%2F%2Ftributary-prod.servicebus.windows.net%2F&sig=${SIGNATURE_SIG}&se=${expiresAtSeconds}&skn=tributary-writer`;

type Env = Record<string, string>;

/** The problems a writer's configuration has on Service Bus, as `setting: message`. */
function problemsOf(env: Env): string[] {
  try {
    loadWriterConfig({ TRIBUTARY_TRANSPORT: 'servicebus', ...env });
  } catch (error) {
    if (!isConfigError(error)) throw error;
    for (const secret of [KEY, SIGNATURE_SIG, env.SERVICEBUS_CONNECTION_STRING ?? KEY])
      expect(error.message, 'a secret appeared in the message').not.toContain(secret);
    return error.problems.map((p) => `${p.setting}: ${p.message}`);
  }
  return [];
}

describe('Service Bus configuration accepted', () => {
  it.each<[string, Env]>([
    [
      'a namespace policy’s connection string',
      { SERVICEBUS_CONNECTION_STRING: `${ENDPOINT};${KEY_AUTH}` },
    ],
    [
      'a connection string with a trailing ";" and spaces around pairs',
      { SERVICEBUS_CONNECTION_STRING: ` ${ENDPOINT} ; ${KEY_AUTH} ;` },
    ],
    [
      'a connection string signed with a shared access signature',
      {
        SERVICEBUS_CONNECTION_STRING: `${ENDPOINT};SharedAccessSignature=${signature(FAR_FUTURE_SECONDS)}`,
      },
    ],
    [
      'an emulator’s connection string (plain TCP, a port, no trailing slash)',
      {
        SERVICEBUS_CONNECTION_STRING:
          'Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true',
      },
    ],
    [
      'a queue policy whose EntityPath is TRIBUTARY_QUEUE_NAME in another case (Azure names ignore case)',
      {
        SERVICEBUS_CONNECTION_STRING: `${ENDPOINT};${KEY_AUTH};EntityPath=Tributary-Changes`,
      },
    ],
    ['a public-cloud namespace', { SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.windows.net' }],
    [
      'a sovereign-cloud namespace (US Government)',
      { SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.usgovcloudapi.net' },
    ],
    [
      'a sovereign-cloud namespace (China)',
      { SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.chinacloudapi.cn' },
    ],
    [
      'a queue name with dots, dashes and underscores',
      {
        SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.windows.net',
        TRIBUTARY_QUEUE_NAME: 'cdc.shop_orders-v2',
      },
    ],
    [
      'a queue name of 260 characters',
      {
        SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.windows.net',
        TRIBUTARY_QUEUE_NAME: 'q'.repeat(260),
      },
    ],
  ])('%s', (_name, env) => {
    expect(problemsOf(env)).toEqual([]);
  });

  it('lets writers plan with a lock as long as a queue’s LockDuration can be (5 minutes)', () => {
    expect(
      problemsOf({
        SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.windows.net',
        TRIBUTARY_LEASE_TTL_MS: '300000',
      }),
    ).toEqual([]);
    // The BullMQ lease has no such cap.
    expect(loadWriterConfig({ TRIBUTARY_LEASE_TTL_MS: '600000' }).leaseTtlMs).toBe(600000);
  });

  it('reads both settings as given', () => {
    const config = loadCaptureConfig({
      MONGODB_URI: 'mongodb://h/?replicaSet=rs0',
      TRIBUTARY_TRANSPORT: 'servicebus',
      SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.windows.net',
    });
    expect(config).toMatchObject({
      transport: 'servicebus',
      serviceBusNamespace: 'tributary-prod.servicebus.windows.net',
      serviceBusConnectionString: undefined,
      queueName: 'tributary-changes',
    });
  });

  it('leaves the Service Bus settings alone while the transport is BullMQ', () => {
    expect(() =>
      loadWriterConfig({
        SERVICEBUS_CONNECTION_STRING: 'not a connection string',
        SERVICEBUS_NAMESPACE: 'https://somewhere/',
        TRIBUTARY_QUEUE_NAME: 'tributary/changes',
      }),
    ).not.toThrow();
  });
});

describe('Service Bus configuration refused, naming the setting and what to do', () => {
  it.each<[string, Env, string[]]>([
    [
      'neither a connection string nor a namespace',
      {},
      [
        'SERVICEBUS_CONNECTION_STRING: TRIBUTARY_TRANSPORT=servicebus needs SERVICEBUS_CONNECTION_STRING (a shared access policy’s connection string) or SERVICEBUS_NAMESPACE',
      ],
    ],
    [
      'both a connection string and a namespace',
      {
        SERVICEBUS_CONNECTION_STRING: `${ENDPOINT};${KEY_AUTH}`,
        SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.windows.net',
      },
      ['SERVICEBUS_NAMESPACE: is set together with SERVICEBUS_CONNECTION_STRING; set only one'],
    ],
    [
      'a key pasted alone',
      { SERVICEBUS_CONNECTION_STRING: KEY },
      [
        'SERVICEBUS_CONNECTION_STRING: is not a Service Bus connection string: it must be Key=Value pairs',
      ],
    ],
    [
      'a pair without a key',
      { SERVICEBUS_CONNECTION_STRING: `${ENDPOINT};=${KEY}` },
      ['SERVICEBUS_CONNECTION_STRING: is not a Service Bus connection string'],
    ],
    [
      'keys in another case (the SDK reads them case-sensitively)',
      {
        SERVICEBUS_CONNECTION_STRING: `endpoint=sb://tributary-prod.servicebus.windows.net/;${KEY_AUTH}`,
      },
      [
        'SERVICEBUS_CONNECTION_STRING: spells the key Endpoint in another case; keys are case-sensitive: write Endpoint=',
        'SERVICEBUS_CONNECTION_STRING: has no Endpoint',
      ],
    ],
    [
      'no Endpoint',
      { SERVICEBUS_CONNECTION_STRING: KEY_AUTH },
      [
        'SERVICEBUS_CONNECTION_STRING: has no Endpoint; it must start with Endpoint=sb://NAME.servicebus.windows.net/',
      ],
    ],
    [
      'an https:// Endpoint',
      {
        SERVICEBUS_CONNECTION_STRING: `Endpoint=https://tributary-prod.servicebus.windows.net/;${KEY_AUTH}`,
      },
      ['SERVICEBUS_CONNECTION_STRING: has an Endpoint that is not sb://HOST/'],
    ],
    [
      'an Endpoint with a path',
      {
        SERVICEBUS_CONNECTION_STRING: `Endpoint=sb://tributary-prod.servicebus.windows.net/tributary-changes;${KEY_AUTH}`,
      },
      ['SERVICEBUS_CONNECTION_STRING: has an Endpoint that is not sb://HOST/'],
    ],
    [
      'a key name without its key',
      { SERVICEBUS_CONNECTION_STRING: `${ENDPOINT};SharedAccessKeyName=tributary-writer` },
      ['SERVICEBUS_CONNECTION_STRING: has SharedAccessKeyName but no SharedAccessKey'],
    ],
    [
      'a key without its name',
      { SERVICEBUS_CONNECTION_STRING: `${ENDPOINT};SharedAccessKey=${KEY}` },
      ['SERVICEBUS_CONNECTION_STRING: has SharedAccessKey but no SharedAccessKeyName'],
    ],
    [
      'an empty key',
      { SERVICEBUS_CONNECTION_STRING: `${ENDPOINT};SharedAccessKeyName=w;SharedAccessKey=` },
      ['SERVICEBUS_CONNECTION_STRING: has SharedAccessKeyName but no SharedAccessKey'],
    ],
    [
      'no credentials at all',
      { SERVICEBUS_CONNECTION_STRING: ENDPOINT },
      [
        'SERVICEBUS_CONNECTION_STRING: has no credentials: it needs SharedAccessKeyName and SharedAccessKey',
      ],
    ],
    [
      'a key and a signature at once',
      {
        SERVICEBUS_CONNECTION_STRING: `${ENDPOINT};${KEY_AUTH};SharedAccessSignature=${signature(FAR_FUTURE_SECONDS)}`,
      },
      [
        'SERVICEBUS_CONNECTION_STRING: has both SharedAccessSignature and SharedAccessKeyName/SharedAccessKey',
      ],
    ],
    [
      'a signature without its "SharedAccessSignature " prefix',
      {
        SERVICEBUS_CONNECTION_STRING: `${ENDPOINT};SharedAccessSignature=sr=x&sig=${SIGNATURE_SIG}&se=${FAR_FUTURE_SECONDS}`,
      },
      ['SERVICEBUS_CONNECTION_STRING: has a SharedAccessSignature that is not a signature token'],
    ],
    [
      'a signature without an expiry',
      {
        SERVICEBUS_CONNECTION_STRING: `${ENDPOINT};SharedAccessSignature=SharedAccessSignature sr=x&sig=${SIGNATURE_SIG}`,
      },
      ['SERVICEBUS_CONNECTION_STRING: has a SharedAccessSignature that is not a signature token'],
    ],
    [
      'an expired signature',
      { SERVICEBUS_CONNECTION_STRING: `${ENDPOINT};SharedAccessSignature=${signature(1)}` },
      [
        'SERVICEBUS_CONNECTION_STRING: has a SharedAccessSignature that expired at 1970-01-01T00:00:01.000Z; generate a new one',
      ],
    ],
    [
      'a queue policy of another queue',
      { SERVICEBUS_CONNECTION_STRING: `${ENDPOINT};${KEY_AUTH};EntityPath=orders` },
      [
        'SERVICEBUS_CONNECTION_STRING: belongs to another queue (its EntityPath) than TRIBUTARY_QUEUE_NAME (tributary-changes); use a connection string of a policy on the queue tributary-changes or on the namespace, or set TRIBUTARY_QUEUE_NAME to the queue the policy belongs to',
      ],
    ],
    [
      'a namespace given as an sb:// URL',
      { SERVICEBUS_NAMESPACE: 'sb://tributary-prod.servicebus.windows.net/' },
      [
        'SERVICEBUS_NAMESPACE: is a URL, not a host name; write the host alone: tributary-prod.servicebus.windows.net (no scheme such as sb:// or https://, no port, no path)',
      ],
    ],
    [
      'a namespace given as an https:// URL with a path',
      { SERVICEBUS_NAMESPACE: 'https://tributary-prod.servicebus.windows.net/tributary-changes' },
      [
        'SERVICEBUS_NAMESPACE: is a URL, not a host name; write the host alone: tributary-prod.servicebus.windows.net',
      ],
    ],
    [
      'a namespace with a path but no scheme',
      { SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.windows.net/tributary-changes' },
      [
        'SERVICEBUS_NAMESPACE: is a URL, not a host name; write the host alone: tributary-prod.servicebus.windows.net',
      ],
    ],
    [
      'a namespace with a port',
      { SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.windows.net:5671' },
      [
        'SERVICEBUS_NAMESPACE: is a URL, not a host name; write the host alone: tributary-prod.servicebus.windows.net',
      ],
    ],
    [
      'a namespace name that is not fully qualified',
      { SERVICEBUS_NAMESPACE: 'tributary-prod' },
      [
        'SERVICEBUS_NAMESPACE: is not fully qualified; write tributary-prod.servicebus.windows.net (or the Service Bus domain of your cloud',
      ],
    ],
    [
      'a host name with characters DNS does not allow',
      { SERVICEBUS_NAMESPACE: 'tributary_prod.servicebus.windows.net' },
      [
        "SERVICEBUS_NAMESPACE: is not a host name; write the namespace's fully qualified host name, such as NAME.servicebus.windows.net",
      ],
    ],
    [
      'a public-cloud host whose namespace name Azure cannot have',
      { SERVICEBUS_NAMESPACE: 'tri.servicebus.windows.net' },
      [
        'SERVICEBUS_NAMESPACE: names a namespace (tri) that Azure cannot have: a namespace name is 6–50 letters, digits and hyphens',
      ],
    ],
    [
      'a queue name with a path',
      {
        SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.windows.net',
        TRIBUTARY_QUEUE_NAME: 'cdc/changes',
      },
      [
        'TRIBUTARY_QUEUE_NAME: is not a Service Bus queue name (got "cdc/changes"): use 1–260 letters',
      ],
    ],
    [
      'a queue name starting with a dash',
      {
        SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.windows.net',
        TRIBUTARY_QUEUE_NAME: '-changes',
      },
      ['TRIBUTARY_QUEUE_NAME: is not a Service Bus queue name'],
    ],
    [
      'a queue name ending with a dot',
      {
        SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.windows.net',
        TRIBUTARY_QUEUE_NAME: 'changes.',
      },
      ['TRIBUTARY_QUEUE_NAME: is not a Service Bus queue name'],
    ],
    [
      'a queue name with a character Service Bus refuses',
      {
        SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.windows.net',
        TRIBUTARY_QUEUE_NAME: 'changes$1',
      },
      ['TRIBUTARY_QUEUE_NAME: is not a Service Bus queue name'],
    ],
    [
      'a queue name longer than 260 characters',
      {
        SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.windows.net',
        TRIBUTARY_QUEUE_NAME: 'q'.repeat(261),
      },
      ['TRIBUTARY_QUEUE_NAME: is not a Service Bus queue name'],
    ],
    [
      'writers planning with a lock longer than any queue’s LockDuration',
      {
        SERVICEBUS_NAMESPACE: 'tributary-prod.servicebus.windows.net',
        TRIBUTARY_LEASE_TTL_MS: '300001',
      },
      [
        'TRIBUTARY_LEASE_TTL_MS: is 300001 ms, longer than a Service Bus queue’s LockDuration can be (300000 ms, 5 minutes); on Service Bus set it to the queue’s LockDuration or less',
      ],
    ],
  ])('%s', (_name, env, expected) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(expected.length);
    expected.forEach((start, i) => expect(problems[i]).toContain(start));
  });

  it('names every problem at once, with the other settings’ problems', () => {
    const problems = problemsOf({
      SERVICEBUS_CONNECTION_STRING: `${ENDPOINT};SharedAccessKey=${KEY};EntityPath=orders`,
      SERVICEBUS_NAMESPACE: 'https://tributary-prod.servicebus.windows.net/',
      TRIBUTARY_QUEUE_NAME: 'cdc/changes',
      TRIBUTARY_MAX_FILE_BYTES: '10',
    }).map((p) => p.slice(0, p.indexOf(':')));
    expect(problems).toEqual([
      'TRIBUTARY_MAX_FILE_BYTES',
      'SERVICEBUS_NAMESPACE', // both ways to authenticate
      'SERVICEBUS_CONNECTION_STRING', // a key without its name
      'SERVICEBUS_CONNECTION_STRING', // another queue's policy
      'SERVICEBUS_NAMESPACE', // a URL
      'TRIBUTARY_QUEUE_NAME',
    ]);
  });

  it('refuses the same settings for capture, before anything is contacted', () => {
    let message = '';
    try {
      loadCaptureConfig({
        MONGODB_URI: 'mongodb://h/?replicaSet=rs0',
        TRIBUTARY_TRANSPORT: 'servicebus',
        SERVICEBUS_NAMESPACE: 'sb://tributary-prod.servicebus.windows.net',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('Invalid capture configuration (1 problem)');
    expect(message).toContain('write the host alone: tributary-prod.servicebus.windows.net');
    expect(message).toContain('nothing was contacted');
  });
});
