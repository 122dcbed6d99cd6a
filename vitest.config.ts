import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Probes the test PostgreSQL once: its tests skip with one line without it (fail with REQUIRE_POSTGRES=1).
    globalSetup: ['test/support/postgres-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores in CI: forks keep heavy engine tests from starving each other.
    pool: 'forks',
    maxWorkers: 2,
  },
});
