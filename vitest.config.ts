import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The docs' blocks import the package by name (test/docs-blocks.test.ts): point it at the sources.
  resolve: { alias: { skipgrad: fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
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
