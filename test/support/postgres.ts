/**
 * PostgreSQL for tests: `describePostgres` runs a suite only when the test database answers (see
 * postgres-setup.ts), and `usePostgresSchema` gives the calling test file its own schema, created before its
 * tests and dropped (with everything in it) after them, so files run in parallel without seeing each other.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';

/** The test database URL, or null when PostgreSQL tests are skipped. */
export function postgresUrl(): string | null {
  return inject('postgresUrl');
}

/** `describe` when the test database answers, `describe.skip` otherwise (the run says why, once). */
export const describePostgres = describe.skipIf(postgresUrl() === null);

/** Where a test file's database objects live. */
export interface TestSchema {
  url: string;
  /** Set in beforeAll. */
  schema: string;
}

/**
 * A fresh schema for this file, named after `label` plus random letters; dropped in afterAll. Call it at the top
 * of a `describePostgres` block and read `.schema` inside tests.
 */
export function usePostgresSchema(label: string): TestSchema {
  const holder: TestSchema = { url: postgresUrl() ?? '', schema: '' };
  // Without a database the PostgreSQL suites are skipped: nothing to create.
  if (holder.url === '') return holder;
  beforeAll(async () => {
    holder.schema = `t_${label.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
    await admin(holder.url, `CREATE SCHEMA "${holder.schema}"`);
  });
  afterAll(async () => {
    if (holder.schema !== '') await admin(holder.url, `DROP SCHEMA IF EXISTS "${holder.schema}" CASCADE`);
  });
  return holder;
}

/** Another fresh schema name inside the file's, for a test that needs an empty database of its own. */
export function freshSchemaName(base: TestSchema, suffix: string): string {
  return `${base.schema}_${suffix}`;
}

/** Runs one statement on its own connection (schema set-up and tear-down). */
export async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
