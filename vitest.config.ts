import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Two cores: two test files at a time, each with its own database on the shared server.
    pool: 'forks',
    maxWorkers: 2,
    // Only a hang hits these: no test asserts on time, and a loaded machine (CI runs on two busy
    // cores) may take several times as long as a quiet one for the same work.
    testTimeout: 180_000,
    hookTimeout: 240_000,
  },
});
