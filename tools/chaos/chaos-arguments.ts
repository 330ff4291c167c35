import { parseArgs } from 'node:util';
import { MAX_SEED, randomSeed } from '../../e2e/src/chaos/seeded-random.ts';

/** What `npm run chaos -- …` was asked for. */
export interface ChaosArguments {
  readonly rounds: number;
  readonly seed: number;
  /** True when no `--seed` was given and one was drawn. */
  readonly seedDrawn: boolean;
  readonly roundMs: number;
  readonly writers: number;
  readonly transport: 'bullmq' | 'servicebus';
  readonly keep: boolean;
}

/** What `--help` prints. */
export const USAGE = `npm run chaos -- [--rounds N] [--seed N] [--round-ms MS] [--writers N] [--transport T] [--keep]

  --rounds N     rounds of faults (default 20; the acceptance run is 300)
  --seed N       seed of the fault schedule, 0…${MAX_SEED} (default: drawn at random and printed)
  --round-ms MS  how long each round runs after its fault (default 5000)
  --writers N    writer processes (default 3)
  --transport T  bullmq (default) or servicebus: the queue under fire
  --keep         leave the run's directory (ADLS data, every process's log) for diagnosis

On bullmq it needs redis-server on the PATH: the run starts its own and restarts it
empty on purpose. On servicebus it runs the Service Bus emulator in its own process.`;

/**
 * Parses the chaos CLI's arguments.
 *
 * @throws TypeError naming the bad or unknown argument.
 */
export function parseChaosArguments(argv: readonly string[]): ChaosArguments {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rounds: { type: 'string', default: '20' },
      seed: { type: 'string' },
      'round-ms': { type: 'string', default: '5000' },
      writers: { type: 'string', default: '3' },
      transport: { type: 'string', default: 'bullmq' },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const seed = values.seed === undefined ? undefined : integer('--seed', values.seed, 0, MAX_SEED);
  return {
    rounds: integer('--rounds', values.rounds, 1, 100_000),
    seed: seed ?? randomSeed(),
    seedDrawn: seed === undefined,
    roundMs: integer('--round-ms', values['round-ms'], 0, 600_000),
    writers: integer('--writers', values.writers, 1, 8),
    transport: transportOf(values.transport),
    keep: values.keep,
  };
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max)
    throw new TypeError(`${name} must be an integer ${min}…${max}, not '${text}'`);
  return value;
}

function transportOf(text: string): 'bullmq' | 'servicebus' {
  if (text === 'bullmq' || text === 'servicebus') return text;
  throw new TypeError(`--transport must be bullmq or servicebus, not '${text}'`);
}
