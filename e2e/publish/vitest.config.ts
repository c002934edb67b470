import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['*.test.ts'],
    // Installing @l2o/cli and its dependencies through the local registry takes minutes.
    testTimeout: 900_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
