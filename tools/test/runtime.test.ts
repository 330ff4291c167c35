import { describe, expect, it } from 'vitest';

describe('the pinned runtime', () => {
  it('runs the tests on Node 24 whatever the system Node is', () => {
    // `npm test` must pick up node_modules/.bin/node (the `node` devDependency);
    // on the build machines the system Node is 20, so this fails if it does not.
    expect(Number(process.versions.node.split('.')[0])).toBe(24);
  });
});
