import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Probes the test PostgreSQL once: its tests skip with one line without it (fail with REQUIRE_POSTGRES=1);
    // compiles the sources once for the tests that start the app or the CLI as a child process.
    globalSetup: ['test/support/postgres-setup.ts', 'test/support/compiled-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores in CI: forks keep heavy engine tests from starving each other.
    pool: 'forks',
    maxWorkers: 2,
  },
});
