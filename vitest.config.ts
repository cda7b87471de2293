import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: keep two test files in flight at most.
    maxWorkers: 2,
    // Tests (and the CLIs they spawn) must not fill the user's ~/.cache/skipgrad with decoded CSVs.
    env: { SKIPGRAD_CACHE_DIR: 'off' },
  },
});
