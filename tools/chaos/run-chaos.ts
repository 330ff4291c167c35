/**
 * `npm run chaos -- --rounds 300 --seed N`: the randomized chaos harness
 * (e2e/src/chaos) as a command. Prints the seed first, a line per round,
 * the report and one verdict line last; exits 0 when every count is 0,
 * 1 when one is not, 2 when the run could not be made (bad arguments, no
 * redis-server for a BullMQ run, a harness failure).
 */
import { redisServerInstalled } from '@tributary/testing';
import { runChaos } from '../../e2e/src/chaos/run-chaos.ts';
import { USAGE, parseChaosArguments } from './chaos-arguments.ts';

const EXIT_FAILED = 1;
const EXIT_UNUSABLE = 2;

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    console.log(USAGE);
    return 0;
  }
  let args;
  try {
    args = parseChaosArguments(process.argv.slice(2));
  } catch (error) {
    console.error(`chaos: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return EXIT_UNUSABLE;
  }
  if (args.transport === 'bullmq' && !redisServerInstalled()) {
    console.error(
      'chaos: redis-server is not on the PATH. The chaos run starts a Redis of its own and restarts it empty on purpose, so it needs the server binary (e.g. `apt-get install redis-server`), not only a reachable Redis.',
    );
    return EXIT_UNUSABLE;
  }
  const report = await runChaos({
    rounds: args.rounds,
    seed: args.seed,
    roundMs: args.roundMs,
    writers: args.writers,
    transport: args.transport,
    keep: args.keep,
    print: (line) => console.log(line),
  });
  return report.passed ? 0 : EXIT_FAILED;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('chaos: the run could not be completed:', error);
    process.exit(EXIT_UNUSABLE);
  },
);
