import { defineConfig } from 'vitest/config';

// The one test configuration of every package: `vitest run --config ../../vitest.shared.ts` from the
// package's folder (its package.json test script), so `src/` is that package's.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // CLI tests run the real binary, training included: minutes, not seconds.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Each test file in its own process: tfjs engines and WASM heaps are per process.
    pool: 'forks',
  },
});
