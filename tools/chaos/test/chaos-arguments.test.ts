import { describe, expect, it } from 'vitest';
import { parseChaosArguments } from '../chaos-arguments.ts';

describe('the chaos command line', () => {
  it('runs 20 rounds of 5 s with three writers and a drawn seed when given nothing', () => {
    const args = parseChaosArguments([]);
    expect(args).toMatchObject({
      rounds: 20,
      roundMs: 5000,
      writers: 3,
      transport: 'bullmq',
      keep: false,
      seedDrawn: true,
    });
    expect(Number.isInteger(args.seed)).toBe(true);
  });

  it('takes the rounds, seed, round length, writers, transport and --keep it is given', () => {
    expect(
      parseChaosArguments([
        '--rounds',
        '300',
        '--seed',
        '42',
        '--round-ms',
        '4000',
        '--writers',
        '2',
        '--transport',
        'servicebus',
        '--keep',
      ]),
    ).toEqual({
      rounds: 300,
      seed: 42,
      seedDrawn: false,
      roundMs: 4000,
      writers: 2,
      transport: 'servicebus',
      keep: true,
    });
  });

  it.each([
    [['--rounds', '0']],
    [['--rounds', 'ten']],
    [['--seed', '-1']],
    [['--seed', '4294967296']],
    [['--writers', '1.5']],
    [['--transport', 'kafka']],
    [['--round-ms']],
    [['--unknown']],
    [['positional']],
  ])('refuses %j, naming the argument', (argv) => {
    expect(() => parseChaosArguments(argv)).toThrow(TypeError);
  });
});
