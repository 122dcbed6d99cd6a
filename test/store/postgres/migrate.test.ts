import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StoreError } from '../../../src/store/errors.ts';
import { connectPool } from '../../../src/store/postgres/connect.ts';
import { migrateSchema } from '../../../src/store/postgres/migrate.ts';
import { PG_MIGRATIONS, TEAM_TABLES } from '../../../src/store/postgres/schema.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';

describePostgres('PostgreSQL schema migrations', () => {
  const db = usePostgresSchema('migrate');
  const pools: pg.Pool[] = [];
  const open = async (schema: string) => {
    const pool = await connectPool({ url: db.url, schema });
    pools.push(pool);
    return pool;
  };
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = await open(db.schema);
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
  });

  it('creates the whole schema once, and finds nothing to do the second time', async () => {
    const first = await migrateSchema(pool, 'test');
    // Numbers are reserved per piece of work, so a later one may land before an earlier one: not always dense.
    const latest = PG_MIGRATIONS.at(-1)?.version ?? 0;
    expect(first).toEqual({
      from: 0,
      to: latest,
      applied: PG_MIGRATIONS.map((m) => `${m.version}: ${m.name}`),
    });
    expect(first.applied.slice(0, 7)).toEqual([
      '1: initial-schema',
      '2: delivery-order',
      '3: connections',
      '4: audience-counts',
      '5: stats-rollups',
      '6: person-known',
      '7: activity-upkeep',
    ]);
    expect(await migrateSchema(pool, 'test')).toEqual({ from: latest, to: latest, applied: [] });
  });

  it('files every row under the workspace: team_id leads every primary key and every index', async () => {
    await migrateSchema(pool, 'test');
    const { rows } = await pool.query<{ table: string; index: string; first: string }>(
      `SELECT t.relname AS table, i.relname AS index, a.attname AS first
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class t ON t.oid = x.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
        WHERE n.nspname = current_schema() AND t.relname <> 'schema_migrations'
          AND NOT t.relispartition`,
    );
    const tables = new Set(rows.map((r) => r.table));
    // Interactions are partitioned by time and have no primary key: their indexes still lead with team_id.
    for (const table of TEAM_TABLES) expect(tables, table).toContain(table);
    for (const row of rows) expect(`${row.index}: ${row.first}`).toBe(`${row.index}: team_id`);
  });

  it("removes a segment run's assignments with it (a statement trigger, not a per-row foreign key)", async () => {
    await migrateSchema(pool, 'test');
    await pool.query(
      `INSERT INTO segment_runs (team_id, id, created_at, data_version, k, features, scaling, names, sizes, centroids)
       VALUES ('T', 'r1', now(), 1, 1, '{}', 'zscore', '{a}', '{2}', '[]'), ('T', 'r2', now(), 1, 1, '{}', 'zscore', '{a}', '{1}', '[]')`,
    );
    await pool.query(
      `INSERT INTO segment_assignments (team_id, run_id, ord, user_id, label)
       VALUES ('T', 'r1', 0, 'u1', 0), ('T', 'r1', 1, 'u2', 0), ('T', 'r2', 0, 'u1', 0)`,
    );
    await pool.query(`DELETE FROM segment_runs WHERE team_id = 'T' AND id = 'r1'`);
    const { rows } = await pool.query('SELECT run_id, user_id FROM segment_assignments ORDER BY 1, 2');
    expect(rows).toEqual([{ run_id: 'r2', user_id: 'u1' }]);
  });

  it('lets replicas starting together migrate once: the others wait, then find nothing to do', async () => {
    const schema = `${db.schema}_race`;
    const racers = await Promise.all([open(schema), open(schema), open(schema)]);
    const outcomes = await Promise.all(racers.map((p) => migrateSchema(p, 'test')));
    expect(outcomes.map((o) => o.applied.length).sort()).toEqual([0, 0, PG_MIGRATIONS.length]);
    await racers[0]?.query(`DROP SCHEMA "${schema}" CASCADE`);
  });

  it('leaves nothing half-made when a migration fails, and refuses a database newer than the build', async () => {
    const schema = `${db.schema}_fail`;
    const p = await open(schema);
    const broken = [
      ...PG_MIGRATIONS,
      {
        version: (PG_MIGRATIONS.at(-1)?.version ?? 0) + 1,
        name: 'broken',
        sql: 'CREATE TABLE half_made (id int); SELECT no_such_function();',
      },
    ];
    const failure = await migrateSchema(p, 'test', broken).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StoreError);
    expect((failure as StoreError).code).toBe('migration_failed');
    expect((failure as Error).message).toMatch(/Migration \d+ \(broken\).*nothing was changed/);
    const { rows } = await p.query(
      `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename IN ('half_made', 'profiles')`,
      [schema],
    );
    expect(rows[0]).toEqual({ n: 0 });

    await migrateSchema(p, 'test');
    await p.query(`INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')`);
    const newer = await migrateSchema(p, 'test').catch((e: unknown) => e);
    expect((newer as StoreError).code).toBe('newer_schema');
    expect((newer as Error).message).toMatch(/schema version 99, newer than this build understands \(\d+\)/);
    await p.query(`DROP SCHEMA "${schema}" CASCADE`);
  });
});
