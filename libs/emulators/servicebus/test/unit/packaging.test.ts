import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const manifest = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as {
  dependencies: Record<string, string>;
};

describe('the package manifest', () => {
  it('pins rhea to the exact version installed, since src/amqp/rhea.ts patches its internals', () => {
    // The container image installs from this manifest alone: a range would
    // let it take a rhea the patches were never tested against.
    const pinned = manifest.dependencies['rhea'];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    const installed = (createRequire(import.meta.url)('rhea/package.json') as { version: string })
      .version;
    expect(installed).toBe(pinned);
  });
});
