import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    setupFiles: ['./vitest.setup.ts'],
    // The pages are built once (when stale) before any test asks for them.
    globalSetup: ['test/browser/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
  },
});
