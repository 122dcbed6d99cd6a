import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectPool } from '../../../src/store/postgres/connect.ts';
import { migrateSchema } from '../../../src/store/postgres/migrate.ts';
import {
  ensureMonthPartitions,
  listPartitions,
  monthOf,
  partitionName,
  purgeBefore,
} from '../../../src/store/postgres/partitions.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';

const at = (iso: string) => Date.parse(iso);
const insert = (pool: pg.Pool, team: string, iso: string) =>
  pool.query(`INSERT INTO interactions (team_id, user_id, type, at) VALUES ($1, 'u1', 'view', $2)`, [
    team,
    iso,
  ]);

describePostgres('monthly interaction partitions', () => {
  const db = usePostgresSchema('partitions');
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = await connectPool({ url: db.url, schema: db.schema });
    await migrateSchema(pool, 'test');
  });
  afterAll(async () => {
    await pool.end();
  });

  it('names months in UTC and creates each partition once, even when replicas ask together', async () => {
    expect(monthOf(at('2026-03-31T23:59:59.999Z'))).toBe('2026-03');
    expect(partitionName('2026-04')).toBe('interactions_2026_04');
    const months = ['2026-03', '2026-04', '2026-03'];
    const created = await Promise.all([
      ensureMonthPartitions(pool, months),
      ensureMonthPartitions(pool, months),
    ]);
    expect(created.flat().sort()).toEqual(expect.arrayContaining(['2026-03', '2026-04']));
    expect(await listPartitions(pool)).toEqual(['interactions_2026_03', 'interactions_2026_04']);
    expect(await ensureMonthPartitions(pool, months)).toEqual([]);
  });

  it('refuses a row whose month has no partition (no slow catch-all table)', async () => {
    await expect(insert(pool, 'T1', '2030-01-05T00:00:00Z')).rejects.toThrow(/no partition/);
    await ensureMonthPartitions(pool, ['2026-03']);
    await insert(pool, 'T1', '2026-03-31T23:59:59.999Z');
  });

  it('purges one workspace and drops only the partitions nobody has rows in any more', async () => {
    await ensureMonthPartitions(pool, ['2026-01', '2026-02', '2026-03']);
    await insert(pool, 'T1', '2026-01-10T00:00:00Z');
    await insert(pool, 'T2', '2026-02-10T00:00:00Z');
    await insert(pool, 'T1', '2026-02-11T00:00:00Z');
    const purged = await purgeBefore(pool, 'T1', at('2026-03-15T00:00:00Z'));
    expect(purged).toEqual({ deleted: 2, dropped: ['interactions_2026_01'] });
    expect(await listPartitions(pool)).toEqual([
      'interactions_2026_02',
      'interactions_2026_03',
      'interactions_2026_04',
    ]);
    const { rows } = await pool.query('SELECT team_id FROM interactions ORDER BY at');
    expect(rows).toEqual([{ team_id: 'T2' }, { team_id: 'T1' }]);
  });
});
