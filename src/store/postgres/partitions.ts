/**
 * Monthly partitions of `interactions` (see schema.ts). They are shared by every workspace in the database
 * (ranges of time, not of teams), created before the rows that need them, and dropped by retention only once
 * no workspace has a row left in them.
 */
import pg from 'pg';
import type { Queryable } from './claims.ts';
import { inTransaction } from './connect.ts';

/** Advisory lock class for partition changes ("AIPT"), so two importing replicas never race on the DDL. */
const PARTITION_LOCK_CLASS = 0x41495054;
const pgPool = pg.Pool;

/** `YYYY-MM` (UTC) of an epoch-ms instant. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** The partition table of a `YYYY-MM` month, e.g. `interactions_2026_03`. */
export function partitionName(month: string): string {
  if (!/^\d{4}-\d{2}$/.test(month)) throw new RangeError(`not a YYYY-MM month: ${month}`);
  return `interactions_${month.replace('-', '_')}`;
}

/** The first instant of the month after a `YYYY-MM` month, as an ISO date. */
function nextMonthStart(month: string): string {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, m, 1)).toISOString();
}

/**
 * Creates the partitions of these months that do not exist yet. Given the pool, in their own short transaction:
 * a new partition locks the parent table briefly, which must not last as long as an import (empty partitions
 * left by an import that then rolled back are harmless). Given the client of an open transaction, in it.
 */
export async function ensureMonthPartitions(
  db: pg.Pool | pg.PoolClient,
  months: Iterable<string>,
): Promise<string[]> {
  const wanted = [...new Set(months)].sort();
  if (wanted.length === 0) return [];
  const existing = new Set(await listPartitions(db));
  const missing = wanted.filter((m) => !existing.has(partitionName(m)));
  if (missing.length === 0) return [];
  if (!(db instanceof pgPool)) {
    await createPartitions(db, missing);
    return missing;
  }
  await inTransaction(db, 'BEGIN', (client) => createPartitions(client, missing));
  return missing;
}

async function createPartitions(db: Queryable, months: readonly string[]): Promise<void> {
  await db.query('SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))', [PARTITION_LOCK_CLASS]);
  for (const month of months) {
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${partitionName(month)} PARTITION OF interactions
         FOR VALUES FROM ('${month}-01T00:00:00Z') TO ('${nextMonthStart(month)}')`,
    );
  }
}

/** The interaction partitions of the current schema, oldest first. */
export async function listPartitions(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_namespace n ON n.oid = p.relnamespace
      WHERE p.relname = 'interactions' AND n.nspname = current_schema()
      ORDER BY c.relname`,
  );
  return rows.map((r) => r.name);
}

/**
 * Retention for one workspace: deletes its interactions before `cutoff`, then drops the partitions that lie
 * wholly before the cutoff month and hold no row of any workspace (dropping is what gives the disk back).
 * Returns how many rows were deleted and which partitions were dropped.
 */
export async function purgeBefore(
  pool: Queryable,
  teamId: string,
  cutoff: number,
): Promise<{ deleted: number; dropped: string[] }> {
  const { rowCount } = await pool.query('DELETE FROM interactions WHERE team_id = $1 AND at < $2', [
    teamId,
    new Date(cutoff).toISOString(),
  ]);
  const before = partitionName(monthOf(cutoff));
  const dropped: string[] = [];
  for (const name of await listPartitions(pool)) {
    if (name >= before) continue;
    const { rows } = await pool.query(`SELECT 1 FROM ${name} LIMIT 1`);
    if (rows.length > 0) continue;
    await pool.query(`DROP TABLE IF EXISTS ${name}`);
    dropped.push(name);
  }
  return { deleted: rowCount ?? 0, dropped };
}
