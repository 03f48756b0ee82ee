import { defineConfig } from 'vitest/config';

// Run through `npm test` (node test/run-hermetic.mjs), never plain `vitest`: the runner puts
// the whole suite in a throwaway network + mount namespace, and test/setup.ts refuses to run
// outside it. All workers share that one namespace -- see test/hermetic.test.ts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests spawn processes and hold native netlink sockets: real processes, not threads.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
