import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Interaction, Profile } from '../../../src/domain/types.ts';
import { computeStats } from '../../../src/engine/stats.ts';
import { generateSample } from '../../../src/sample/generate.ts';
import { openPgStore, type PgStore } from '../../../src/store/postgres/pg-store.ts';
import { rebuildRollups } from '../../../src/store/postgres/rollups.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';

const END = new Date(Date.UTC(2026, 2, 2, 9)).getTime();
const DAY = 86_400_000;
// "Now" a little after the data, at an instant that is not a day boundary, so the window's ends are partial days.
const NOW = END + 3 * 3_600_000 + 17 * 60_000;
const TEAM = 'TROLL';

describePostgres('stats rollups kept by every change, equal to the engine', () => {
  const db = usePostgresSchema('rollups');
  let store: PgStore;
  let pool: pg.Pool;

  /** The engine's stats on what the base tables hold now (read back without the rollups). */
  async function engineStats(asOf: number) {
    const profiles = (await store.audience.profiles()) as Profile[];
    const interactions = (await store.audience.interactions()) as Interaction[];
    return computeStats(profiles, interactions, { asOf });
  }
  const sqlStats = (asOf: number) => store.audience.aggregate({ kind: 'stats', params: { asOf } });

  /** Each rollup table equals a recount from the base tables (EXCEPT both ways is empty). */
  async function expectRollupsConsistent(): Promise<void> {
    const recounts: Array<[string, string]> = [
      [
        'SELECT team_id, dim, value, n FROM profile_tallies',
        `SELECT team_id, 'total', '', count(*) FROM profiles GROUP BY 1
         UNION ALL SELECT team_id, 'country', country, count(*) FROM profiles WHERE country IS NOT NULL GROUP BY 1, 3
         UNION ALL SELECT team_id, 'platform', platform, count(*) FROM profiles WHERE platform IS NOT NULL GROUP BY 1, 3
         UNION ALL SELECT team_id, 'interest', v, count(*) FROM profiles, unnest(interests) v GROUP BY 1, 3`,
      ],
      [
        'SELECT team_id, user_id, last_at, last_reach_at, last_engage_at, last_buy_at, known FROM person_activity',
        `SELECT team_id, user_id, max(at), max(at) FILTER (WHERE type IN ('view', 'like', 'share', 'comment', 'click')),
           max(at) FILTER (WHERE type IN ('like', 'share', 'comment', 'click')), max(at) FILTER (WHERE type = 'purchase'),
           EXISTS (SELECT 1 FROM profiles p WHERE p.team_id = i.team_id AND p.id = i.user_id)
           FROM interactions i GROUP BY 1, 2`,
      ],
      [
        'SELECT * FROM interaction_days',
        `SELECT team_id, (at AT TIME ZONE 'UTC')::date, type, count(*) FROM interactions GROUP BY 1, 2, 3`,
      ],
      [
        'SELECT team_id, bucket, views, engagements, revenue FROM event_buckets WHERE (views, engagements, revenue) <> (0, 0, 0)',
        `SELECT team_id, date_bin('10 minutes', at, 'epoch'::timestamptz), count(*) FILTER (WHERE type = 'view'),
           count(*) FILTER (WHERE type IN ('like', 'share', 'comment', 'click')),
           coalesce(sum(exact_numeric(coalesce(value, 0))) FILTER (WHERE type = 'purchase'), 0)
           FROM interactions WHERE type IN ('view', 'like', 'share', 'comment', 'click', 'purchase') GROUP BY 1, 2`,
      ],
      [
        'SELECT team_id, kind, bucket, people FROM activity_buckets WHERE people <> 0',
        `SELECT team_id, kind, date_bin('10 minutes', at, 'epoch'::timestamptz), count(*) FROM (
           SELECT a.team_id, k.kind, k.at FROM person_activity a JOIN profiles p ON p.team_id = a.team_id AND p.id = a.user_id,
             LATERAL (VALUES ('active', greatest(a.last_at, p.last_active_at)), ('reach', a.last_reach_at),
                             ('engage', a.last_engage_at), ('buy', a.last_buy_at)) AS k (kind, at)
           UNION ALL SELECT p.team_id, 'active', p.last_active_at FROM profiles p
            WHERE NOT EXISTS (SELECT 1 FROM person_activity a WHERE a.team_id = p.team_id AND a.user_id = p.id)) x
          WHERE at IS NOT NULL GROUP BY 1, 2, 3`,
      ],
      [
        'SELECT team_id, user_id, seen FROM person_activity',
        `SELECT a.team_id, a.user_id, p.last_active_at FROM person_activity a
           LEFT JOIN profiles p ON p.team_id = a.team_id AND p.id = a.user_id`,
      ],
      [
        'SELECT team_id, bucket, starts, ends FROM week_edges WHERE (starts, ends) <> (0, 0)',
        `SELECT team_id, date_bin('10 minutes', at, 'epoch'::timestamptz), sum(st), sum(en) FROM (
           SELECT team_id, at, (lead(at) OVER w IS NULL OR lead(at) OVER w - at > interval '7 days')::int AS st,
                  (lag(at) OVER w IS NULL OR at - lag(at) OVER w > interval '7 days')::int AS en
             FROM (SELECT team_id, user_id, at FROM interactions
                   UNION SELECT team_id, id, last_active_at FROM profiles WHERE last_active_at IS NOT NULL) d
           WINDOW w AS (PARTITION BY team_id, user_id ORDER BY at)) x
          WHERE st + en > 0 GROUP BY 1, 2`,
      ],
      [
        'SELECT team_id, pseudonym, user_id FROM profile_pseudonyms',
        `SELECT team_id, v, id FROM profiles, LATERAL (SELECT value #>> '{}' AS v FROM jsonb_each(attrs)
           UNION ALL SELECT e #>> '{}' FROM jsonb_each(attrs),
             jsonb_array_elements(CASE WHEN jsonb_typeof(value) = 'array' THEN value ELSE '[]' END) e) x
          WHERE v ~ '^ps_[a-z2-7]{26}$'`,
      ],
    ];
    for (const [kept, recount] of recounts) {
      const diff = await pool.query(
        `((${kept}) EXCEPT (${recount})) UNION ALL ((${recount}) EXCEPT (${kept}))`,
      );
      expect(diff.rows, kept).toEqual([]);
    }
  }

  beforeAll(async () => {
    const sample = generateSample({ profiles: 1_200, seed: 5, end: new Date(END) });
    // Someone without a profile: their events count nowhere, until they get one.
    sample.interactions.push(
      { user_id: 'stranger', item_id: null, type: 'view', value: null, timestamp: END - DAY },
      { user_id: 'stranger', item_id: null, type: 'like', value: null, timestamp: END - 2 * DAY },
      { user_id: 'stranger', item_id: null, type: 'purchase', value: 99.5, timestamp: END - 3 * DAY },
    );
    store = await openPgStore({ url: db.url, schema: db.schema, teamId: TEAM, onNotice: () => undefined });
    pool = new pg.Pool({ connectionString: db.url, max: 1, options: `-c search_path=${db.schema}` });
    await store.change((tx) => tx.replaceAudience(sample));
  });
  afterAll(async () => {
    await pool.end();
    await store.close();
  });

  it('after a sample load: as of now, and long after the data', async () => {
    await expectRollupsConsistent();
    for (const asOf of [NOW, END + 40 * DAY]) expect(await sqlStats(asOf)).toEqual(await engineStats(asOf));
  });

  it('after an import that adds people, changes others, and appends their events', async () => {
    const existing = (await store.audience.profiles()).slice(0, 50);
    await store.change(async (tx) => {
      await tx.upsertProfiles(
        [
          ...existing.map((p, i) => ({
            id: p.id,
            country: i % 2 ? 'IS' : null,
            interests: ['sailing', 'chess'],
          })),
          {
            id: 'stranger',
            country: 'NO',
            platform: 'tiktok',
            created_at: END - 2 * DAY,
            interests: ['chess'],
          },
          { id: 'newcomer', created_at: END - 9 * DAY, last_active_at: END - 10 * DAY },
        ],
        {},
      );
      await tx.appendInteractions([
        { user_id: 'newcomer', item_id: null, type: 'purchase', value: 12.25, timestamp: END - 5 * DAY },
        { user_id: 'newcomer', item_id: null, type: 'comment', value: null, timestamp: NOW - 60_000 },
        {
          user_id: existing[3]?.id ?? '',
          item_id: null,
          type: 'view',
          value: null,
          timestamp: END - 31 * DAY,
        },
      ]);
    });
    await expectRollupsConsistent();
    expect(await sqlStats(NOW)).toEqual(await engineStats(NOW));
  });

  it('after the import path that stages events and leaves out those already stored', async () => {
    const stored = (await store.audience.interactions()).slice(0, 3);
    const fresh: Interaction[] = [
      { user_id: 'newcomer', item_id: null, type: 'view', value: null, timestamp: NOW - 120_000 },
      { user_id: 'stranger', item_id: null, type: 'share', value: null, timestamp: END - DAY / 2 },
    ];
    const appended = await store.change((tx) =>
      tx.appendInteractions([...stored, ...fresh], { skipStored: true }),
    );
    expect(appended).toBe(2);
    await expectRollupsConsistent();
    expect(await sqlStats(NOW)).toEqual(await engineStats(NOW));
  });

  it("at the windows' partial 10-minute slices, with revenue rounded once and a profile seen in the future", async () => {
    const [buyer, seenAtEdge, seenLater, quiet] = (await store.audience.profiles())
      .slice(100, 104)
      .map((p) => p.id);
    const month = NOW - 30 * DAY;
    const week = NOW - 7 * DAY;
    // Ten purchases of 0.1 on both sides of each window's start: added one by one they make 0.9999999999999999.
    const edges = [month, week, NOW - 60 * DAY].flatMap((t) => [t - 60_000, t, t + 60_000, t + 7 * 60_000]);
    const purchases: Interaction[] = edges.slice(0, 10).map((t) => ({
      user_id: buyer ?? '',
      item_id: null,
      type: 'purchase',
      value: 0.1,
      timestamp: t,
    }));
    await store.change(async (tx) => {
      await tx.appendInteractions([
        ...purchases,
        { user_id: quiet ?? '', item_id: null, type: 'like', value: null, timestamp: week + 120_000 },
        // Latest activity inside the partial slices at the start of the 30 days and of the week.
        { user_id: 'edge-month', item_id: null, type: 'view', value: null, timestamp: month + 30_000 },
        { user_id: 'edge-week', item_id: null, type: 'purchase', value: 0.2, timestamp: week + 30_000 },
        { user_id: 'edge-buyer', item_id: null, type: 'purchase', value: 0.3, timestamp: month + 45_000 },
        { user_id: 'edge-buyer', item_id: null, type: 'comment', value: null, timestamp: month + 50_000 },
      ]);
      await tx.upsertProfiles(
        [
          { id: seenAtEdge ?? '', last_active_at: month + 180_000 },
          { id: seenLater ?? '', last_active_at: NOW + 2 * DAY },
          { id: quiet ?? '', last_active_at: NOW + DAY },
          { id: 'edge-month' },
          { id: 'edge-week', last_active_at: week - DAY },
          { id: 'seen-at-month-edge', last_active_at: month + 60_000 },
          { id: 'edge-buyer' },
          // Seen after "now" only: the engine does not count it; the slices do, and the read takes it out.
          { id: 'seen-in-future', last_active_at: NOW + 3 * DAY },
        ],
        {},
      );
    });
    await expectRollupsConsistent();
    expect(await sqlStats(NOW)).toEqual(await engineStats(NOW));
    expect(await sqlStats(NOW + 5 * 60_000)).toEqual(await engineStats(NOW + 5 * 60_000));
  });

  it('after forgetting people and a retention purge', async () => {
    const some = (await store.audience.profiles()).slice(10, 40).map((p) => p.id);
    await store.change(async (tx) => {
      await tx.removePeople(new Set([...some, 'stranger']));
      await tx.removeInteractionsBefore(END - 45 * DAY);
    });
    await expectRollupsConsistent();
    expect(await sqlStats(NOW)).toEqual(await engineStats(NOW));
  });

  it('answers a past instant (events after it) by scanning, still equal to the engine', async () => {
    const asOf = END - 6 * DAY;
    expect(await sqlStats(asOf)).toEqual(await engineStats(asOf));
  });

  it('reads the rollups, not the rows: a tampered tally shows in the answer', async () => {
    const before = (await sqlStats(NOW)) as { top: { countries: Array<{ value: string }> } };
    await pool.query(`UPDATE profile_tallies SET n = n + 100000 WHERE dim = 'country' AND value = 'IS'`);
    const after = (await sqlStats(NOW)) as typeof before;
    expect(after.top.countries[0]?.value).toBe('IS');
    expect(before.top.countries[0]?.value).not.toBe('IS');
    await pool.query(`UPDATE profile_tallies SET n = n - 100000 WHERE dim = 'country' AND value = 'IS'`);
  });

  it('rebuildRollups recounts what the triggers keep (a bulk load that bypassed them)', async () => {
    await pool.query(`UPDATE profile_tallies SET n = n + 7 WHERE dim = 'total'`);
    await pool.query(
      'DELETE FROM person_activity WHERE user_id IN (SELECT user_id FROM person_activity LIMIT 20)',
    );
    await pool.query('UPDATE interaction_days SET events = events + 1');
    await pool.query('BEGIN');
    await rebuildRollups(pool, TEAM);
    await pool.query('COMMIT');
    await expectRollupsConsistent();
    expect(await sqlStats(NOW)).toEqual(await engineStats(NOW));
  });

  it('keeps activity updates on their page: no index covers a column the upsert changes, pages keep room', async () => {
    const { rows } = await pool.query<{ column: string }>(
      `SELECT DISTINCT a.attname AS column FROM pg_index x
         JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ANY (x.indkey)
        WHERE x.indrelid = 'person_activity'::regclass`,
    );
    expect(rows.map((r) => r.column).sort()).toEqual(['team_id', 'user_id']);
    const { rows: options } = await pool.query<{ options: string[] }>(
      `SELECT reloptions AS options FROM pg_class WHERE oid = 'person_activity'::regclass`,
    );
    expect(options[0]?.options).toContain('fillfactor=70');
  });

  it('exact_numeric gives every double its exact decimal value, which reads back as the same double', async () => {
    const values = [
      12.34,
      0.1,
      -2.5,
      0,
      1e300,
      -7.25e-300,
      5e-324,
      2 ** 60 + 2 ** 8,
      123456789.125,
      Number.MAX_VALUE,
    ];
    const { rows } = await pool.query<{ v: number; exact: string }>(
      'SELECT v, trim_scale(exact_numeric(v))::text AS exact FROM unnest($1::float8[]) AS v',
      [values],
    );
    for (const r of rows) {
      expect(Number(r.exact)).toBe(r.v);
      // Exact: a binary fraction's decimal ends in 5 (or is an integer), and 0.1 is not 0.1.
      expect(/\.\d*[1-46-9]$/.test(r.exact)).toBe(false);
    }
    expect(rows.find((r) => r.v === 0.1)?.exact).toBe(
      '0.1000000000000000055511151231257827021181583404541015625',
    );
  });

  describe('interactions are never edited in place', () => {
    it('refuses an UPDATE, which would bypass the rollups', async () => {
      await expect(pool.query(`UPDATE interactions SET value = 1 WHERE team_id = '${TEAM}'`)).rejects.toThrow(
        /not updated in place/,
      );
    });
  });
});
