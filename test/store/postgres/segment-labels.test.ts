/**
 * One person's label in a stored run (`labelsOf`, read by every `recommend user=`) is found through the
 * assignments' user index: a large run is written in one statement, and the planner, believing the run had a row
 * or two, read all of it by primary key (48 ms a person at 100k). Recording a large run refreshes the statistics.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SegmentRun } from '../../../src/domain/types.ts';
import { openPgStore, type PgStore } from '../../../src/store/postgres/pg-store.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';

const PEOPLE = 12_000;

describePostgres('a large segment run read one person at a time', () => {
  const db = usePostgresSchema('segment_labels');
  let store: PgStore;
  let pool: pg.Pool;
  const ids = Array.from({ length: PEOPLE }, (_, i) => `u${i}`);
  const run: SegmentRun = {
    id: 'run-1',
    created_at: Date.UTC(2026, 0, 1),
    data_version: 1,
    k: 3,
    features: ['recency'],
    scaling: 'zscore',
    names: ['a', 'b', 'c'],
    sizes: [4_000, 4_000, 4_000],
    centroids: [[0], [1], [2]],
    user_ids: ids,
    labels: ids.map((_, i) => i % 3),
  };

  beforeAll(async () => {
    store = await openPgStore({
      url: db.url,
      schema: db.schema,
      teamId: 'TLABELS',
      onNotice: () => undefined,
    });
    pool = new pg.Pool({ connectionString: db.url, max: 1, options: `-c search_path=${db.schema}` });
    await store.change((tx) => tx.addSegmentRun(run, 3));
  });
  afterAll(async () => {
    await pool?.end();
    await store?.close();
  });

  it('reads the label by the user index, with statistics that know the run', async () => {
    expect(await store.segmentRuns.labelsOf('run-1', ['u7', 'u11999', 'nobody'])).toEqual(
      new Map([
        ['u7', 1],
        ['u11999', 2],
      ]),
    );
    const { rows } = await pool.query<{ reltuples: number }>(
      `SELECT reltuples FROM pg_class WHERE oid = 'segment_assignments'::regclass`,
    );
    expect(rows[0]?.reltuples).toBeGreaterThanOrEqual(PEOPLE * 0.9);
    const plan = await pool.query(
      `EXPLAIN SELECT user_id, label FROM segment_assignments
        WHERE team_id = 'TLABELS' AND run_id = 'run-1' AND user_id = ANY(ARRAY['u7'])`,
    );
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/segment_assignments_by_user/);
  });
});
