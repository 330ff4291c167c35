import type { ConfigProblem } from '../errors/config-error.ts';

/**
 * What `TRIBUTARY_TRANSPORT=servicebus` needs, checked before anything is
 * contacted: one way to authenticate, a namespace or connection string the
 * SDK can use, and a queue name Service Bus accepts. Messages name the
 * setting and what to write instead; nothing taken from a connection string
 * is ever quoted (it carries a key or a signature).
 *
 * The connection string rules follow what `@azure/service-bus` 7.9 itself
 * parses (`parseServiceBusConnectionString` and core-amqp's
 * `ConnectionConfig`): `Key=Value` pairs separated by `;`, keys read
 * case-sensitively, `Endpoint` required, then either
 * `SharedAccessKeyName` + `SharedAccessKey` or a `SharedAccessSignature`
 * whose value starts with `SharedAccessSignature `.
 */

/** The longest LockDuration a Service Bus queue can have (5 minutes; the shortest is 5 s). */
export const SERVICE_BUS_MAX_LOCK_DURATION_MS = 5 * 60_000;

/** The Service Bus settings a rule reads (see `sharedSettings`). */
export interface ServiceBusSettings {
  readonly serviceBusConnectionString?: string | undefined;
  readonly serviceBusNamespace?: string | undefined;
  readonly queueName?: string | undefined;
}

const CONNECTION_STRING = 'SERVICEBUS_CONNECTION_STRING';
const NAMESPACE = 'SERVICEBUS_NAMESPACE';
const QUEUE_NAME = 'TRIBUTARY_QUEUE_NAME';

/** Where a connection string comes from, said once in every message about one. */
const WHERE_TO_COPY =
  "copy it whole from the namespace's or the queue's Shared access policies in the Azure portal";

/** The keys the SDK reads, spelled as it reads them. */
const KNOWN_KEYS = [
  'Endpoint',
  'SharedAccessKeyName',
  'SharedAccessKey',
  'SharedAccessSignature',
  'EntityPath',
  'UseDevelopmentEmulator',
] as const;

/**
 * Every problem of the Service Bus settings; empty when the transport can
 * be opened from them. Both ways to authenticate at once is refused: which
 * identity the processes run as decides which rights they have, and a
 * connection string left behind next to a namespace (or the reverse) would
 * silently decide it.
 */
export function serviceBusProblems(settings: ServiceBusSettings): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const connectionString = settings.serviceBusConnectionString;
  const namespace = settings.serviceBusNamespace?.trim();
  if (!connectionString && !namespace) {
    problems.push({
      setting: CONNECTION_STRING,
      message: `TRIBUTARY_TRANSPORT=servicebus needs ${CONNECTION_STRING} (a shared access policy’s connection string) or ${NAMESPACE} (NAME.servicebus.windows.net, authenticated with Azure identity through DefaultAzureCredential)`,
    });
  }
  if (connectionString && namespace) {
    problems.push({
      setting: NAMESPACE,
      message: `is set together with ${CONNECTION_STRING}; set only one of them: the connection string to authenticate with its shared access key or signature, or the namespace to authenticate with Azure identity (DefaultAzureCredential)`,
    });
  }
  if (connectionString) {
    for (const message of connectionStringProblems(connectionString, settings.queueName))
      problems.push({ setting: CONNECTION_STRING, message });
  }
  if (namespace) {
    const problem = namespaceProblem(namespace);
    if (problem) problems.push({ setting: NAMESPACE, message: problem });
  }
  if (settings.queueName !== undefined) {
    const problem = queueNameProblem(settings.queueName);
    if (problem) problems.push({ setting: QUEUE_NAME, message: problem });
  }
  return problems;
}

/**
 * Why a connection string cannot be used (never quoting it), for the queue
 * `queueName`; empty when the SDK can open it.
 *
 * @param now - milliseconds since the epoch, to tell an expired signature.
 */
export function connectionStringProblems(
  connectionString: string,
  queueName: string | undefined,
  now: number = Date.now(),
): string[] {
  const pairs = parsePairs(connectionString);
  if (pairs === undefined) {
    return [
      `is not a Service Bus connection string: it must be Key=Value pairs separated by ";", as in Endpoint=sb://NAME.servicebus.windows.net/;SharedAccessKeyName=…;SharedAccessKey=…; ${WHERE_TO_COPY}`,
    ];
  }
  const problems: string[] = [];
  for (const key of KNOWN_KEYS) {
    if (!pairs.has(key) && [...pairs.keys()].some((k) => k.toLowerCase() === key.toLowerCase()))
      problems.push(
        `spells the key ${key} in another case; keys are case-sensitive: write ${key}=`,
      );
  }

  const endpoint = pairs.get('Endpoint');
  if (!endpoint) {
    problems.push(
      `has no Endpoint; it must start with Endpoint=sb://NAME.servicebus.windows.net/ — ${WHERE_TO_COPY}`,
    );
  } else if (!/^sb:\/\/(\[[0-9a-f:.]+\]|[^/?#\s:[\]]+)(:\d{1,5})?\/?$/i.test(endpoint)) {
    problems.push(
      "has an Endpoint that is not sb://HOST/; write the namespace's host after sb://, as in Endpoint=sb://NAME.servicebus.windows.net/ (no https://, no path)",
    );
  }

  const keyName = pairs.get('SharedAccessKeyName');
  const key = pairs.get('SharedAccessKey');
  const signature = pairs.get('SharedAccessSignature');
  if (signature && (key || keyName)) {
    problems.push(
      "has both SharedAccessSignature and SharedAccessKeyName/SharedAccessKey; keep one way to sign: the policy's key name and key, or a signature",
    );
  } else if (signature) {
    const signatureProblem = sharedAccessSignatureProblem(signature, now);
    if (signatureProblem) problems.push(signatureProblem);
  } else if (keyName && !key) {
    problems.push(`has SharedAccessKeyName but no SharedAccessKey; ${WHERE_TO_COPY}`);
  } else if (key && !keyName) {
    problems.push(`has SharedAccessKey but no SharedAccessKeyName; ${WHERE_TO_COPY}`);
  } else if (!key && !keyName) {
    problems.push(
      `has no credentials: it needs SharedAccessKeyName and SharedAccessKey (${WHERE_TO_COPY}), or SharedAccessSignature; to authenticate with Azure identity instead, unset ${CONNECTION_STRING} and set ${NAMESPACE}`,
    );
  }

  // A policy scoped to one queue carries that queue's name; its rights stop there.
  const entityPath = pairs.get('EntityPath');
  if (
    entityPath &&
    queueName !== undefined &&
    entityPath.toLowerCase() !== queueName.toLowerCase()
  ) {
    problems.push(
      `belongs to another queue (its EntityPath) than ${QUEUE_NAME} (${queueName}); use a connection string of a policy on the queue ${queueName} or on the namespace, or set ${QUEUE_NAME} to the queue the policy belongs to`,
    );
  }
  return problems;
}

/** The pairs of a connection string as the SDK splits them, or `undefined` when it would refuse it. */
function parsePairs(connectionString: string): Map<string, string> | undefined {
  const pairs = new Map<string, string>();
  for (const rawPart of connectionString.trim().split(';')) {
    const part = rawPart.trim();
    if (part === '') continue;
    const at = part.indexOf('=');
    if (at <= 0 || part.slice(0, at).trim() === '') return undefined;
    pairs.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return pairs.size === 0 ? undefined : pairs;
}

/**
 * A signature is `SharedAccessSignature sr=…&sig=…&se=…[&skn=…]` (the
 * prefix is how core-amqp recognises one). An expired one can never work:
 * it is a setting to renew, not an outage to wait out.
 */
function sharedAccessSignatureProblem(signature: string, now: number): string | undefined {
  const prefix = 'SharedAccessSignature ';
  const fields = signature.startsWith(prefix)
    ? new URLSearchParams(signature.slice(prefix.length).trim())
    : undefined;
  if (!fields?.get('sr') || !fields.get('sig') || !fields.get('se')) {
    return 'has a SharedAccessSignature that is not a signature token; its value must read SharedAccessSignature sr=…&sig=…&se=…&skn=…, as generated for the namespace or the queue';
  }
  const expiresAtSeconds = Number(fields.get('se'));
  if (!Number.isFinite(expiresAtSeconds)) {
    return 'has a SharedAccessSignature whose expiry (se=) is not a number of seconds since 1970; generate a new signature';
  }
  if (expiresAtSeconds * 1000 <= now) {
    return `has a SharedAccessSignature that expired at ${new Date(expiresAtSeconds * 1000).toISOString()}; generate a new one (or use the policy's key name and key, or Azure identity)`;
  }
  return undefined;
}

/** One DNS label: letters, digits and inner hyphens, 1–63 characters. */
const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** A namespace's own name: 6–50 letters, digits and hyphens, from a letter to a letter or digit. */
const NAMESPACE_NAME = /^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]$/;
const PUBLIC_CLOUD_SUFFIX = '.servicebus.windows.net';

/**
 * Why `SERVICEBUS_NAMESPACE` is not a fully qualified host name, saying
 * what to write; `undefined` when it is one. Any host is accepted (sovereign
 * clouds use other domains, e.g. `servicebus.usgovcloudapi.net`); a URL, a
 * path or a port is not what the SDK takes with a credential.
 */
export function namespaceProblem(value: string): string | undefined {
  const host = value
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .split(/[/?#]/, 1)[0]!
    .replace(/^[^@]*@/, '')
    .replace(/:\d*$/, '');
  if (host !== value) {
    return `is a URL, not a host name; write the host alone: ${host || 'NAME.servicebus.windows.net'} (no scheme such as sb:// or https://, no port, no path)`;
  }
  const labels = host.split('.');
  if (host.length > 253 || !labels.every((label) => HOST_LABEL.test(label))) {
    return `is not a host name; write the namespace's fully qualified host name, such as NAME${PUBLIC_CLOUD_SUFFIX}`;
  }
  if (labels.length < 2) {
    const suggestion = NAMESPACE_NAME.test(host)
      ? `${host}${PUBLIC_CLOUD_SUFFIX}`
      : `NAME${PUBLIC_CLOUD_SUFFIX}`;
    return `is not fully qualified; write ${suggestion} (or the Service Bus domain of your cloud, such as NAME.servicebus.usgovcloudapi.net)`;
  }
  if (host.toLowerCase().endsWith(PUBLIC_CLOUD_SUFFIX) && !NAMESPACE_NAME.test(labels[0]!)) {
    return `names a namespace (${labels[0]}) that Azure cannot have: a namespace name is 6–50 letters, digits and hyphens, starting with a letter and ending with a letter or digit`;
  }
  return undefined;
}

/**
 * Service Bus queue names: 1–260 letters, digits, `.`, `-`, `_`, starting
 * and ending with a letter or digit. Service Bus also allows `/` for
 * nested paths; Tributary's queue is one plain name (its dead letters live
 * under `NAME/$DeadLetterQueue`).
 */
const QUEUE_NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,258}[A-Za-z0-9])?$/;

/** Why a name is not a Service Bus queue name Tributary can use, or `undefined`. */
export function queueNameProblem(name: string): string | undefined {
  if (QUEUE_NAME_PATTERN.test(name)) return undefined;
  return `is not a Service Bus queue name (got ${JSON.stringify(name)}): use 1–260 letters, digits, '.', '-' and '_', starting and ending with a letter or digit, and name the session-enabled queue itself (no '/')`;
}
