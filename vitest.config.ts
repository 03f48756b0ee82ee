import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig } from 'vitest/config'

// Each test file gets its own network namespace: vitest forks its workers with
// process.execPath, so we point that at a wrapper that unshares first. Only inside the
// runner (NSNET_HERMETIC=1); test/setup.ts refuses to run anywhere else anyway.
if (process.env.NSNET_HERMETIC === '1' && !process.env.NSNET_REAL_NODE) {
  process.env.NSNET_REAL_NODE = process.execPath
  process.execPath = fileURLToPath(new URL('./test/worker-netns.sh', import.meta.url))
}

// Run through `npm test` (node test/run-hermetic.mjs), never plain `vitest`: the runner puts
// the whole suite in a throwaway network + mount namespace, and test/setup.ts refuses to run
// outside it. Inside it, every test file runs in a fresh namespace of its own (below).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/package/ holds scratch projects that test/package/check.mjs runs against the packed tarball.
    exclude: [...configDefaults.exclude, 'test/package/**'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests spawn processes and hold native netlink sockets: real processes, not threads.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
})
