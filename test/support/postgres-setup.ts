/**
 * Vitest global setup: finds out once per run whether the test PostgreSQL answers, and hands its URL to the
 * test files (inject('postgresUrl')), or null. Without a database the PostgreSQL tests are skipped and ONE line
 * says how to run them; with REQUIRE_POSTGRES=1 (set by .ci/run) an unreachable database fails the run instead.
 */
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The URL of a reachable test database, or null: PostgreSQL tests skip. */
    postgresUrl: string | null;
  }
}

/** The test database: TEST_DATABASE_URL, or the local PostgreSQL the development machines run. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** Probes the database and provides its URL (or null) to every test file. */
export default async function setup(project: TestProject): Promise<void> {
  const problem = await probe(TEST_DATABASE_URL);
  if (problem === null) {
    project.provide('postgresUrl', TEST_DATABASE_URL);
    return;
  }
  if (process.env.REQUIRE_POSTGRES === '1') {
    throw new Error(
      `REQUIRE_POSTGRES=1 but PostgreSQL at ${TEST_DATABASE_URL} does not answer (${problem}): start it, or set TEST_DATABASE_URL.`,
    );
  }
  console.info(
    `PostgreSQL tests skipped (${problem} at ${TEST_DATABASE_URL}): start PostgreSQL 15 there, or set TEST_DATABASE_URL=postgres://user@host:5432/db, to run them.`,
  );
  project.provide('postgresUrl', null);
}

async function probe(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}
