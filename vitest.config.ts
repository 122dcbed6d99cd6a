import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Folders whose test files only call our code in this process and leave no process-wide state behind (no
 * environment variables, working directory, process listeners or child processes; each file opens its own temp
 * files, schema and servers and closes them). Their files share one module graph per worker (isolate: false),
 * which saves each of them re-importing its dependencies (~0.3-0.5 CPU-s a file); module-level state in src/
 * is limited to caches keyed by the objects a test passes in. Every other file runs isolated, one per process.
 */
const IN_PROCESS_FOLDERS = [
  'architecture',
  'blocks',
  'charts',
  'commands',
  'connectors',
  'domain',
  'engine',
  'export',
  'import',
  'queries',
  'sample',
  'slack',
];
/** Files in those folders that change process-wide state for a while (TZ, restored): kept isolated. */
const PROCESS_STATE = new Set([
  'test/blocks/stats-message.test.ts',
  'test/charts/render.test.ts',
  'test/domain/format.test.ts',
]);

const inProcess = IN_PROCESS_FOLDERS.flatMap((folder) =>
  readdirSync(join(import.meta.dirname, 'test', folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => `test/${folder}/${file.split('\\').join('/')}`),
).filter((file) => !PROCESS_STATE.has(file));

export default defineConfig({
  test: {
    // Probes the test PostgreSQL once: its tests skip with one line without it (fail with REQUIRE_POSTGRES=1);
    // compiles the sources once for the tests that start the app or the CLI as a child process.
    globalSetup: ['test/support/postgres-setup.ts', 'test/support/compiled-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores in CI: forks keep heavy engine tests from starving each other.
    pool: 'forks',
    maxWorkers: 2,
    // Both groups share the two workers; within each, vitest starts the slowest files of the last run first.
    projects: [
      { extends: true, test: { name: 'in-process', include: inProcess, isolate: false } },
      { extends: true, test: { name: 'isolated', include: ['test/**/*.test.ts'], exclude: inProcess } },
    ],
  },
});
