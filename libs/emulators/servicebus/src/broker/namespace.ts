import { isValidQueueName } from '../config/config-file.ts';
import { resolveQueueProperties, type QueueProperties } from '../config/queue-properties.ts';
import type { Journal } from './journal-port.ts';
import { DEAD_LETTER_SUFFIX, QueueEntity } from './queue-entity.ts';
import type { Subqueue } from './subqueue.ts';

/** What an AMQP address names. */
export type AddressTarget =
  | { kind: 'cbs' }
  | { kind: 'entity'; queue: QueueEntity; subqueue: Subqueue; entityPath: string }
  | { kind: 'management'; queue: QueueEntity; subqueue: Subqueue; entityPath: string }
  | { kind: 'unknown'; entityPath: string };

const MANAGEMENT_SUFFIX = '/$management';

/**
 * The namespace's queues. Addresses follow the service: `<queue>`,
 * `<queue>/$DeadLetterQueue`, each with `/$management`, and `$cbs`. Queue
 * names are case-insensitive, as in the service. With `autoCreate`, an
 * unknown queue is created with the default properties on first use.
 */
export class Namespace {
  private readonly queues = new Map<string, QueueEntity>();
  private readonly autoCreated = new Set<string>();
  private readonly journal: Journal;
  private readonly autoCreate: boolean;
  private readonly autoCreateProperties: QueueProperties;

  constructor(
    journal: Journal,
    autoCreate: boolean,
    autoCreateProperties?: Partial<QueueProperties>,
  ) {
    this.journal = journal;
    this.autoCreate = autoCreate;
    this.autoCreateProperties = resolveQueueProperties(
      'autoCreateQueueProperties',
      autoCreateProperties,
    );
  }

  /** Adds a queue (from configuration or the journal); returns the existing one if the name is taken. */
  addQueue(name: string, properties: QueueProperties): QueueEntity {
    const key = name.toLowerCase();
    const existing = this.queues.get(key);
    if (existing) return existing;
    const queue = new QueueEntity(name, properties, this.journal);
    this.queues.set(key, queue);
    return queue;
  }

  /** True for a queue created on first use (the journal keeps its definition). */
  isAutoCreated(name: string): boolean {
    return this.autoCreated.has(name.toLowerCase());
  }

  /** Brings back a queue that was created on first use before a restart. */
  restoreAutoCreated(name: string, properties: QueueProperties): QueueEntity {
    this.autoCreated.add(name.toLowerCase());
    return this.addQueue(name, properties);
  }

  /** The queue called `name` (any case). */
  queue(name: string): QueueEntity | undefined {
    return this.queues.get(name.toLowerCase());
  }

  /** Every queue. */
  all(): QueueEntity[] {
    return [...this.queues.values()];
  }

  /** What `address` names; creates the queue first when auto-creation is on. */
  resolve(address: string | undefined): AddressTarget {
    const raw = (address ?? '').trim();
    if (raw === '$cbs') return { kind: 'cbs' };
    // Clients may use the full URI form (`sb://host/queue`): keep the path only.
    const path = raw.replace(/^[a-z]+:\/\/[^/]*\//i, '').replace(/^\/+/, '');
    let rest = path;
    let management = false;
    if (rest.toLowerCase().endsWith(MANAGEMENT_SUFFIX.toLowerCase())) {
      management = true;
      rest = rest.slice(0, -MANAGEMENT_SUFFIX.length);
    }
    let deadLetter = false;
    if (rest.toLowerCase().endsWith(DEAD_LETTER_SUFFIX.toLowerCase())) {
      deadLetter = true;
      rest = rest.slice(0, -DEAD_LETTER_SUFFIX.length);
    }
    let queue = this.queue(rest);
    if (!queue && this.autoCreate && isValidQueueName(rest) && !rest.includes('$')) {
      queue = this.addQueue(rest, this.autoCreateProperties);
      this.autoCreated.add(rest.toLowerCase());
      this.journal.append({ kind: 'queue', queue: rest, properties: this.autoCreateProperties });
    }
    if (!queue) return { kind: 'unknown', entityPath: path };
    const subqueue = deadLetter ? queue.deadLetter : queue.main;
    return {
      kind: management ? 'management' : 'entity',
      queue,
      subqueue,
      entityPath: subqueue.entityPath,
    };
  }

  close(): void {
    for (const queue of this.queues.values()) queue.close();
  }
}
