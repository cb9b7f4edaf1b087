import { defineConfig } from 'vitest/config';

// Tests that load the native addon or spawn servers run in forked processes (worker_threads and
// native addons do not mix well with vitest's thread pool), and the suite is sized for a 2-core machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
