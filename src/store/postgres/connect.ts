/**
 * Connections to PostgreSQL: one `pg` pool per store, optionally pinned to a schema (tests give every file its
 * own), with bigint and numeric columns read as JavaScript numbers (our counters and epoch values stay far
 * below 2^53, and the app computes in numbers anyway).
 */
import pg from 'pg';
import { StoreError } from '../errors.ts';

/** How to reach the database. */
export interface PgConnectOptions {
  /** postgres://user:password@host:5432/database */
  url: string;
  /** A schema to work in (created if missing); default: the connection's search_path (usually public). */
  schema?: string;
  /** Most connections this process opens; default 10. */
  maxConnections?: number;
}

const INT8 = 20;
const NUMERIC = 1700;

/** Type parsers of our pools: int8 and numeric as numbers, everything else as pg parses it. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8 || oid === NUMERIC) return (text: string) => Number(text);
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Runs `work` in one transaction on a connection of its own from `pool` (`begin` names the isolation and access
 * mode): committed when it returns, rolled back when it throws, the connection released either way.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  begin: string,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** A schema name as a quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The URL without user and password, for messages. */
export function locationOf(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return 'the database';
  }
}

/** Opens a pool and checks that the database answers (creating the schema when one is named). */
export async function connectPool(options: PgConnectOptions): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    types: TYPES,
    // Every connection of the pool works in the schema, so unqualified names (and new partitions) land there.
    ...(options.schema ? { options: `-c search_path=${quoteIdent(options.schema)}` } : {}),
  });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  try {
    if (options.schema) await createSchema(pool, options.schema);
    else await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw unreachable(options.url, error);
  }
  return pool;
}

async function createSchema(pool: pg.Pool, schema: string): Promise<void> {
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  } catch (error) {
    // IF NOT EXISTS is not atomic: a process starting at the same moment may have just created it.
    const code = (error as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') throw error;
  }
}

/** The StoreError for a database that cannot be reached, saying what to check. */
export function unreachable(url: string, error: unknown): StoreError {
  const where = locationOf(url);
  return new StoreError(
    'unreadable',
    where,
    `Cannot reach PostgreSQL at ${where}: ${(error as Error).message}. Check DATABASE_URL (host, port, database, user, password) and that the server is running, or unset DATABASE_URL to use the data file.`,
    { cause: error },
  );
}
