import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Rng } from '../../../src/domain/random.ts';
import { generateSample } from '../../../src/sample/generate.ts';
import { personEvents } from '../../../src/store/postgres/feature-sql.ts';
import {
  anchoredAt,
  anchorFeatures,
  countersAt,
  FEATURE_SLOTS,
  rebuildFeatureWindows,
} from '../../../src/store/postgres/feature-windows.ts';
import { openPgStore, type PgStore } from '../../../src/store/postgres/pg-store.ts';
import { ts } from '../../../src/store/postgres/rows.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';

const END = Date.UTC(2026, 2, 2, 9);
const DAY = 86_400_000;
const HOUR = 3_600_000;
const TEAM = 'TWIN';
const OTHER = 'TWIN2';
const TYPES = ['view', 'like', 'share', 'comment', 'click', 'purchase'] as const;

describePostgres('per-person window counters kept on write, equal to a recount', () => {
  const db = usePostgresSchema('feature_windows');
  let store: PgStore;
  let pool: pg.Pool;
  let first = 0;
  const rng = new Rng(20261207);
  const random = () => rng.next();
  const pick = <T>(xs: readonly T[]): T => rng.pick(xs);
  let users: string[] = [];

  /**
   * Every anchor's kept rows equal `personEvents` as of the anchor, and the day candidates a recount, once a reader
   * has brought the anchors to their instants (which folds the pending events in).
   */
  async function expectCountersExact(): Promise<void> {
    const { rows: anchors } = await pool.query<{ team_id: string; slot: number; at: string; ms: number }>(
      `SELECT team_id, slot, at::text AS at, (extract(epoch FROM at) * 1000)::float8 AS ms FROM feature_anchors
        ORDER BY 1, 2`,
    );
    for (const a of anchors) await anchorFeatures(pool, a.team_id, a.slot, a.ms);
    for (const a of anchors) expect(await anchoredAt(pool, a.team_id, a.slot, a.ms)).toBe(true);
    for (const a of anchors) {
      const p = [a.team_id, a.at, a.slot];
      const events = personEvents({
        team: '$1',
        asOf: '$2::timestamptz',
        windowStart: `($2::timestamptz - interval '1344 hours')`,
        lookbackStart: `($2::timestamptz - interval '8760 hours')`,
        purchasesOnly: false,
      });
      // What readers read (the mask computed from the day candidates), against the events counted.
      const kept = `SELECT user_id, views, likes, shares, comments, clicks, engagements, coalesce(active, 0), frequency,
          monetary::float8, last FROM (${countersAt('$1', a.slot, '$2::timestamptz', true)}) k WHERE $3::int IS NOT NULL`;
      const recount = `SELECT user_id, views, likes, shares, comments, clicks, engagements, coalesce(active, 0),
          frequency, monetary, last FROM (${events}) e WHERE $3::int IS NOT NULL`;
      const diff = await pool.query(
        `((${kept}) EXCEPT ALL (${recount})) UNION ALL ((${recount}) EXCEPT ALL (${kept}))`,
        p,
      );
      expect(diff.rows, `slot ${a.slot} of ${a.team_id} at ${a.at}`).toEqual([]);
      // The day candidates give the exact active days at later instants too, with the events after the anchor.
      for (const hours of [0, 3, 29, 500]) {
        const later = await pool.query(
          `WITH t AS (SELECT $2::timestamptz + $4 * interval '1 hour' AS t),
           kept AS (SELECT w.user_id, feature_mask(w.days || coalesce(
               (SELECT array_agg(i.at) FROM interactions i WHERE i.team_id = $1 AND i.user_id = w.user_id
                  AND i.at >= $2::timestamptz AND i.at < t.t), '{}'), t.t - interval '1344 hours', t.t) AS m
             FROM person_windows w, t WHERE w.team_id = $1 AND w.slot = $3),
           recount AS (SELECT user_id, bit_or(1::bigint << floor(date_part('epoch', at - (t.t - interval '1344 hours')) / 86400)::int) AS m
             FROM interactions, t WHERE team_id = $1 AND at < t.t AND at >= t.t - interval '1344 hours' GROUP BY user_id)
           SELECT * FROM recount r FULL JOIN kept k USING (user_id)
            WHERE coalesce(r.m, 0) <> coalesce(k.m, 0) AND (k.user_id IS NOT NULL OR
              NOT EXISTS (SELECT 1 FROM interactions i, t WHERE i.team_id = $1 AND i.user_id = r.user_id AND i.at >= $2::timestamptz AND i.at < t.t))`,
          [...p, hours],
        );
        expect(later.rows, `active days ${hours} h after slot ${a.slot} at ${a.at}`).toEqual([]);
      }
    }
  }

  /** Some random events of known people and strangers, in one statement, around the anchors. */
  async function insertSome(n: number): Promise<void> {
    const values: unknown[] = [];
    const tuples: string[] = [];
    for (let i = 0; i < n; i++) {
      const type = pick(TYPES);
      const user = random() < 0.1 ? `stranger${Math.floor(random() * 5)}` : pick(users);
      const at = first + random() * (END - first);
      const value = type === 'purchase' ? pick([null, 'NaN', Math.round(random() * 10000) / 100]) : null;
      const team = random() < 0.1 ? OTHER : TEAM;
      values.push(team, user, type, value, ts(at));
      const b = values.length;
      tuples.push(`($${b - 4}, $${b - 3}, $${b - 2}, $${b - 1}::float8, $${b}::timestamptz)`);
    }
    await pool.query(
      `INSERT INTO interactions (team_id, user_id, type, value, at) VALUES ${tuples.join(', ')}`,
      values,
    );
  }

  beforeAll(async () => {
    const sample = generateSample({ profiles: 300, seed: 11, end: new Date(END) });
    store = await openPgStore({ url: db.url, schema: db.schema, teamId: TEAM, onNotice: () => undefined });
    pool = new pg.Pool({ connectionString: db.url, max: 2, options: `-c search_path=${db.schema}` });
    await store.change((tx) => tx.replaceAudience(sample));
    users = sample.profiles.map((p) => p.id);
    first = Math.max(...sample.interactions.map((i) => i.timestamp)) - 400 * DAY;
    first = Math.max(first, Math.min(...sample.interactions.map((i) => i.timestamp)));
  });
  afterAll(async () => {
    await pool.end();
    await store.close();
  });

  it('the first anchors are recounted from the events (rebuild), then kept by inserts and deletes', async () => {
    await pool.query('BEGIN');
    await rebuildFeatureWindows(pool, TEAM);
    await pool.query('COMMIT');
    const { rows } = await pool.query('SELECT slot FROM feature_anchors WHERE team_id = $1 ORDER BY slot', [
      TEAM,
    ]);
    expect(rows.map((r) => r.slot)).toEqual([0, 1, 2]);
    await expectCountersExact();
    await anchorFeatures(pool, OTHER, FEATURE_SLOTS.now, END - 10 * DAY);
    for (let round = 0; round < 4; round++) {
      await insertSome(40);
      // Until a reader folds them, the inserted events are pending and readers count from the events.
      const { rows: now } = await pool.query(
        `SELECT (extract(epoch FROM at) * 1000)::float8 AS ms FROM feature_anchors WHERE team_id = $1 AND slot = 0`,
        [TEAM],
      );
      expect(await anchoredAt(pool, TEAM, FEATURE_SLOTS.now, now[0].ms)).toBe(false);
      await expectCountersExact();
    }
    // A delete folds the pending events before it recounts the people it touched (or theirs would count twice).
    const touched = users.slice(5, 10);
    await pool.query(
      `INSERT INTO interactions (team_id, user_id, type, at)
       SELECT $1, u, 'view', t FROM unnest($2::text[]) u, unnest(ARRAY[$3, $4]::timestamptz[]) t`,
      [TEAM, touched, ts(END - DAY), ts(END - 2 * DAY)],
    );
    await pool.query('DELETE FROM interactions WHERE team_id = $1 AND user_id = ANY($2) AND at = $3', [
      TEAM,
      touched,
      ts(END - 2 * DAY),
    ]);
    await expectCountersExact();
    // Forget-like (everything of some people) and retention-like (everything before an instant) deletes.
    await pool.query('DELETE FROM interactions WHERE team_id = $1 AND user_id = ANY($2)', [
      TEAM,
      users.slice(0, 5),
    ]);
    await expectCountersExact();
    await pool.query('DELETE FROM interactions WHERE at < $1::timestamptz', [ts(END - 300 * DAY)]);
    await expectCountersExact();
    await pool.query(
      'DELETE FROM interactions WHERE seq IN (SELECT seq FROM interactions ORDER BY hashint8(seq) LIMIT 30)',
    );
    await expectCountersExact();
  });

  it('anchors move by hours, days, weeks, far and back, each equal to a recount at its instant', async () => {
    let at = END - 80 * DAY + 5 * HOUR + 17_123;
    for (let step = 0; step < 12; step++) {
      const slot = pick([FEATURE_SLOTS.now, FEATURE_SLOTS.train, FEATURE_SLOTS.earlier]);
      const move = pick([
        random() * 20 * HOUR,
        random() * 9 * DAY,
        2 * DAY,
        random() * 40 * DAY,
        -random() * 5 * DAY,
      ]);
      at = Math.min(END + DAY, Math.max(END - 200 * DAY, at + move));
      await anchorFeatures(pool, TEAM, slot, at);
      const { rows } = await pool.query(
        'SELECT at = $2::timestamptz AS ok FROM feature_anchors WHERE team_id = $1 AND slot = $3',
        [TEAM, ts(at), slot],
      );
      expect(rows[0]?.ok).toBe(true);
      await expectCountersExact();
      if (step % 3 === 0) {
        await insertSome(25);
        await expectCountersExact();
      }
    }
  });

  it('a move and writes in flight exclude each other: neither loses the other', async () => {
    const writer = await pool.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(
        `INSERT INTO interactions (team_id, user_id, type, value, at) VALUES ($1, $2, 'view', NULL, $3), ($1, $2, 'purchase', 5, $4)`,
        [TEAM, users[7], ts(END - 3 * DAY), ts(END - 2 * HOUR)],
      );
      // The move waits for the writer's commit, then sees its events (they are before the new instant).
      const moving = anchorFeatures(pool, TEAM, FEATURE_SLOTS.now, END - HOUR);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await writer.query('COMMIT');
      await moving;
    } finally {
      writer.release();
    }
    await expectCountersExact();
  });
});
