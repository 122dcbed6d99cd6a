/**
 * Brings a database's schema up to this build's: every pending migration of schema.ts in ONE transaction
 * (PostgreSQL's DDL is transactional, so a failed migration leaves nothing half-made), serialized across
 * processes by a transaction-scoped advisory lock, so replicas starting together migrate once and the others
 * wait and then find nothing to do. A database newer than this build is refused, never downgraded.
 */
import type pg from 'pg';
import { StoreError } from '../errors.ts';
import { PG_MIGRATIONS, type PgMigration } from './schema.ts';

/** The advisory lock class of migrations ("AIMG"); the object id is the schema's hash, so schemas migrate apart. */
const MIGRATION_LOCK_CLASS = 0x41494d47;

/** What a migration run did. */
export interface MigrationOutcome {
  /** The schema version before and after. */
  from: number;
  to: number;
  applied: string[];
}

/** Applies pending migrations (see the module comment); throws StoreError 'newer_schema' or 'migration_failed'. */
export async function migrateSchema(
  pool: pg.Pool,
  location: string,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
): Promise<MigrationOutcome> {
  const latest = migrations.at(-1)?.version ?? 0;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))', [
      MIGRATION_LOCK_CLASS,
    ]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ v: number | null }>(
      'SELECT max(version) AS v FROM schema_migrations',
    );
    const from = rows[0]?.v ?? 0;
    if (from > latest) {
      throw new StoreError(
        'newer_schema',
        location,
        `The database at ${location} has schema version ${from}, newer than this build understands (${latest}): run a newer Audience Insights, or point DATABASE_URL elsewhere.`,
      );
    }
    const applied: string[] = [];
    for (const step of migrations.filter((m) => m.version > from)) {
      await runStep(client, step, location);
      applied.push(`${step.version}: ${step.name}`);
    }
    await client.query('COMMIT');
    return { from, to: Math.max(from, latest), applied };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function runStep(client: pg.PoolClient, step: PgMigration, location: string): Promise<void> {
  try {
    await client.query(step.sql);
    await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
      step.version,
      step.name,
    ]);
  } catch (error) {
    throw new StoreError(
      'migration_failed',
      location,
      `Migration ${step.version} (${step.name}) of the database at ${location} failed, nothing was changed: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
