import { readFileSync } from 'node:fs';
import { EmulatorError } from '../emulator-error.ts';
import { queuePropertiesFromJson, type QueueProperties } from './queue-properties.ts';

/**
 * Entities from a configuration file in the shape of Microsoft's Service Bus
 * emulator `Config.json`
 * (https://learn.microsoft.com/azure/service-bus-messaging/overview-emulator):
 *
 * ```json
 * { "UserConfig": { "Namespaces": [ { "Name": "sbemulatorns",
 *     "Queues": [ { "Name": "orders", "Properties": { "LockDuration": "PT1M", … } } ],
 *     "Topics": [] } ],
 *   "Logging": { "Type": "File" } } }
 * ```
 *
 * so one file serves both emulators. Topics are not emulated: they are
 * reported in {@link EntityConfig.ignoredTopics} (and attaching to one
 * answers "entity not found"), never silently treated as queues.
 */
export interface EntityConfig {
  /**
   * Queues by name as the file writes it (names are case-insensitive, as in
   * the service; the case given is kept for display).
   */
  queues: Map<string, QueueProperties>;
  /** Names of topics in the file, which this emulator does not provide. */
  ignoredTopics: string[];
  /** Documented queue properties the file sets that the emulator does not model (ignored). */
  ignoredProperties: string[];
}

/** Queue names as the service allows them: letters, digits, `.-_/`, up to 260 characters. */
const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,259}$/;

/** True when `name` can name a queue (and contains no `$` subqueue or node part). */
export function isValidQueueName(name: string): boolean {
  return QUEUE_NAME.test(name) && !name.endsWith('/') && !name.includes('//');
}

function object(where: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new EmulatorError('invalid-configuration', `${where}: expected an object`);
  return value as Record<string, unknown>;
}

function list(where: string, value: unknown): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw new EmulatorError('invalid-configuration', `${where}: expected an array`);
  return value;
}

/** Reads entity definitions from a parsed `Config.json` document, naming every problem. */
export function entitiesFromConfig(document: unknown): EntityConfig {
  const root = object('config', document);
  const user = object('UserConfig', root['UserConfig']);
  const namespaces = list('UserConfig.Namespaces', user['Namespaces']);
  const queues = new Map<string, QueueProperties>();
  const ignoredTopics: string[] = [];
  const ignoredProperties: string[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  namespaces.forEach((ns, n) => {
    const where = `UserConfig.Namespaces[${n}]`;
    try {
      const namespace = object(where, ns);
      list(`${where}.Queues`, namespace['Queues']).forEach((q, i) => {
        const qWhere = `${where}.Queues[${i}]`;
        try {
          const queue = object(qWhere, q);
          const name = queue['Name'];
          if (typeof name !== 'string' || !isValidQueueName(name)) {
            problems.push(
              `${qWhere}.Name: expected a queue name (letters, digits, . - _ /), got ${JSON.stringify(name)}`,
            );
            return;
          }
          if (seen.has(name.toLowerCase())) {
            problems.push(`${qWhere}.Name: queue '${name}' is defined twice`);
            return;
          }
          seen.add(name.toLowerCase());
          queues.set(
            name,
            queuePropertiesFromJson(`${qWhere}.Properties`, queue['Properties'], (m) =>
              ignoredProperties.push(m),
            ),
          );
        } catch (error) {
          problems.push(error instanceof Error ? error.message : String(error));
        }
      });
      list(`${where}.Topics`, namespace['Topics']).forEach((t, i) => {
        const name =
          typeof t === 'object' && t !== null ? (t as Record<string, unknown>)['Name'] : undefined;
        ignoredTopics.push(typeof name === 'string' ? name : `${where}.Topics[${i}]`);
      });
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  });
  if (problems.length > 0) throw new EmulatorError('invalid-configuration', problems.join('\n'));
  return { queues, ignoredTopics, ignoredProperties };
}

/** Reads and checks a `Config.json` file. */
export function loadConfigFile(path: string): EntityConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new EmulatorError(
      'invalid-configuration',
      `cannot read the configuration file ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new EmulatorError(
      'invalid-configuration',
      `${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return entitiesFromConfig(document);
}
