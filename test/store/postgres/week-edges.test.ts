import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRng } from '../../../src/domain/random.ts';
import type { Interaction, Profile } from '../../../src/domain/types.ts';
import { computeStats } from '../../../src/engine/stats.ts';
import { openPgStore, type PgStore } from '../../../src/store/postgres/pg-store.ts';
import { rebuildRollups } from '../../../src/store/postgres/rollups.ts';
import { WEEK_PEOPLE } from '../../../src/store/postgres/week-edges.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const SLICE = 600_000;
const T0 = Date.UTC(2026, 0, 5, 8, 3, 17, 250);
const TEAM = 'TWEEK';
const OTHER = 'TOTHER';

describePostgres('week_edges: the week before last from starts and ends, kept by every change', () => {
  const db = usePostgresSchema('week_edges');
  let store: PgStore;
  let other: PgStore;
  let pool: pg.Pool;
  // Seeded, so a failure replays.
  const stream = createRng(14);
  const random = () => stream.next();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const people = Array.from({ length: 24 }, (_, i) => `p${i}`);
  const TYPES = ['view', 'like', 'purchase', 'comment'] as const;

  /** A time near what the person already has: the same instant, exactly a week (or a week ± 1 ms) away, or anywhere. */
  async function timeFor(user: string): Promise<number> {
    const { rows } = await pool.query<{ at: number }>(
      `SELECT (extract(epoch FROM at) * 1000)::float8 AS at FROM interactions WHERE team_id = $1 AND user_id = $2`,
      [TEAM, user],
    );
    const base = rows.length > 0 && random() < 0.7 ? (pick(rows).at as number) : T0 + random() * 70 * DAY;
    const offsets = [
      0,
      WEEK,
      -WEEK,
      WEEK + 1,
      WEEK - 1,
      -WEEK - 1,
      2 * WEEK,
      SLICE,
      3 * DAY,
      -random() * 20 * DAY,
    ];
    return Math.round(Math.max(T0, base + pick(offsets)));
  }

  async function randomEvents(n: number): Promise<Interaction[]> {
    const out: Interaction[] = [];
    for (let i = 0; i < n; i++) {
      const user = pick(people);
      const type = pick(TYPES);
      out.push({
        user_id: user,
        item_id: null,
        type,
        value: type === 'purchase' ? 1.5 : null,
        timestamp: await timeFor(user),
      });
    }
    return out;
  }

  /**
   * Profiles for some people, seen at one of their event times, a week from one, anywhere, or never; a few are
   * forgotten (profile and events) and come back later with new events.
   */
  async function randomProfiles(): Promise<void> {
    const chosen = people.filter(() => random() < 0.4);
    const changes: Array<Partial<Profile> & { id: string }> = [];
    for (const id of chosen)
      changes.push({ id, created_at: T0 - DAY, last_active_at: random() < 0.2 ? null : await timeFor(id) });
    await store.change((tx) => tx.upsertProfiles(changes, {}));
    if (random() < 0.5) await store.change((tx) => tx.removePeople(new Set([pick(people)])));
  }

  /** `week_edges` equals a recount of each person's distinct times and its gaps. */
  async function expectEdgesRecounted(): Promise<void> {
    const kept = `SELECT team_id, bucket, starts, ends FROM week_edges WHERE (starts, ends) <> (0, 0)`;
    const recount = `SELECT team_id, date_bin('10 minutes', at, 'epoch'::timestamptz), sum(st), sum(en) FROM (
        SELECT team_id, at, (lead(at) OVER w IS NULL OR lead(at) OVER w - at > interval '7 days')::int AS st,
               (lag(at) OVER w IS NULL OR at - lag(at) OVER w > interval '7 days')::int AS en
          FROM (SELECT team_id, user_id, at FROM interactions
                UNION SELECT team_id, id, last_active_at FROM profiles WHERE last_active_at IS NOT NULL) d
        WINDOW w AS (PARTITION BY team_id, user_id ORDER BY at)) x
      WHERE st + en > 0 GROUP BY 1, 2`;
    const diff = await pool.query(
      `((${kept}) EXCEPT (${recount})) UNION ALL ((${recount}) EXCEPT (${kept}))`,
    );
    expect(diff.rows).toEqual([]);
  }

  /** For weeks starting anywhere (on events, a week from them, slice edges), the read equals a direct count. */
  async function expectWeeksCounted(): Promise<void> {
    const { rows } = await pool.query<{ at: number }>(
      `SELECT (extract(epoch FROM at) * 1000)::float8 AS at FROM interactions WHERE team_id = $1
       UNION SELECT (extract(epoch FROM last_active_at) * 1000)::float8 FROM profiles
        WHERE team_id = $1 AND last_active_at IS NOT NULL`,
      [TEAM],
    );
    const starts = new Set<number>([T0 - DAY, T0 + 30 * DAY, Math.ceil((T0 + 9 * DAY) / SLICE) * SLICE]);
    for (let i = 0; i < 12 && rows.length > 0; i++) {
      const at = pick(rows).at as number;
      for (const a of [at, at - WEEK, at + 1, at - WEEK + 1, at - 3 * DAY]) starts.add(a);
    }
    const iso = (t: number) => new Date(t).toISOString();
    for (const a of starts) {
      const b = a + WEEK;
      const ceil = (t: number) => Math.ceil(t / SLICE) * SLICE;
      const { rows: got } = await pool.query<{ kept: number; direct: number }>(
        `SELECT (${WEEK_PEOPLE})::int AS kept, (SELECT count(*) FROM (
           SELECT user_id FROM interactions WHERE team_id = $1 AND at >= $2 AND at < $3
           UNION SELECT id FROM profiles WHERE team_id = $1 AND last_active_at >= $2 AND last_active_at < $3) x)::int
           AS direct`,
        [TEAM, iso(a), iso(b), iso(ceil(a)), iso(ceil(b))],
      );
      expect(got[0]?.kept, iso(a)).toBe(got[0]?.direct);
    }
  }

  async function expectStatsEqualEngine(): Promise<void> {
    const profiles = (await store.audience.profiles()) as Profile[];
    const interactions = (await store.audience.interactions()) as Interaction[];
    const latest = Math.max(T0, ...interactions.map((i) => i.timestamp));
    for (const asOf of [latest + 1, latest + 3 * DAY + 7 * 60_000, latest + 12 * DAY + 1]) {
      const sql = await store.audience.aggregate({ kind: 'stats', params: { asOf } });
      expect(sql).toEqual(computeStats(profiles, interactions, { asOf }));
    }
  }

  beforeAll(async () => {
    store = await openPgStore({ url: db.url, schema: db.schema, teamId: TEAM, onNotice: () => undefined });
    other = await openPgStore({ url: db.url, schema: db.schema, teamId: OTHER, onNotice: () => undefined });
    pool = new pg.Pool({ connectionString: db.url, max: 1, options: `-c search_path=${db.schema}` });
    // Another workspace with the same people at the same times: its rows are never a neighbour here.
    const shared: Interaction[] = people.map((user_id, i) => ({
      user_id,
      item_id: null,
      type: 'view',
      value: null,
      timestamp: T0 + i * DAY + 5 * 60_000,
    }));
    await other.change((tx) => tx.appendInteractions(shared));
  });
  afterAll(async () => {
    await pool.end();
    await store.close();
    await other.close();
  });

  it('after rounds of random inserts (several a person, out of order, the same instant, a week apart)', async () => {
    for (let round = 0; round < 8; round++) {
      const events = await randomEvents(round === 0 ? 60 : 25);
      // Out of time order within the statement, and sometimes a repeat of a row in the same statement.
      events.sort(() => random() - 0.5);
      if (events[0]) events.push({ ...events[0] });
      await store.change((tx) => tx.appendInteractions(events));
      await expectEdgesRecounted();
      await expectWeeksCounted();
      if (round % 2 === 1) {
        await randomProfiles();
        await expectEdgesRecounted();
        await expectWeeksCounted();
      }
    }
  });

  it('after random deletes of single rows, of every row at one instant, and of whole stretches', async () => {
    for (let round = 0; round < 8; round++) {
      const kind = round % 3;
      if (kind === 0) {
        // One row, whichever: a time that keeps another row at the same instant changes nothing.
        await pool.query(
          `DELETE FROM interactions WHERE team_id = $1 AND seq IN (
             SELECT seq FROM interactions WHERE team_id = $1 ORDER BY hashint8(seq + $2) LIMIT 3)`,
          [TEAM, round],
        );
      } else if (kind === 1) {
        await pool.query(
          `DELETE FROM interactions WHERE team_id = $1 AND (user_id, at) IN (
             SELECT user_id, at FROM interactions WHERE team_id = $1 ORDER BY hashint8(seq + $2) LIMIT 4)`,
          [TEAM, round],
        );
      } else {
        const from = T0 + random() * 60 * DAY;
        await pool.query(
          `DELETE FROM interactions WHERE team_id = $1 AND user_id = ANY($2) AND at >= $3 AND at < $4`,
          [
            TEAM,
            [pick(people), pick(people)],
            new Date(from).toISOString(),
            new Date(from + 9 * DAY).toISOString(),
          ],
        );
      }
      await expectEdgesRecounted();
      await expectWeeksCounted();
      await store.change(async (tx) => tx.appendInteractions(await randomEvents(10)));
      await expectEdgesRecounted();
      await randomProfiles();
      await expectEdgesRecounted();
      await expectWeeksCounted();
    }
  });

  it('after forget and retention, and the whole stats reply equals the engine', async () => {
    const { rows } = await pool.query<{ user_id: string; at: number }>(
      `SELECT user_id, (extract(epoch FROM max(at)) * 1000)::float8 AS at FROM interactions
        WHERE team_id = $1 AND user_id NOT IN ('p0', 'p1') GROUP BY 1 ORDER BY 1`,
      [TEAM],
    );
    // p0 and p1 lose their profiles (strangers); others are seen at various instants around their events (or never).
    await pool.query(`DELETE FROM profiles WHERE team_id = $1 AND id IN ('p0', 'p1')`, [TEAM]);
    await store.change((tx) =>
      tx.upsertProfiles(
        rows.map((r, i) => ({
          id: r.user_id,
          created_at: T0 - DAY,
          last_active_at: i % 3 === 0 ? null : r.at - (i % 5) * 2 * DAY + (i % 2) * 9 * DAY,
        })),
        {},
      ),
    );
    await expectStatsEqualEngine();
    await store.change((tx) => tx.removePeople(new Set([rows[3]?.user_id ?? '', rows[0]?.user_id ?? ''])));
    await expectEdgesRecounted();
    await expectWeeksCounted();
    await expectStatsEqualEngine();
    await store.change((tx) => tx.removeInteractionsBefore(T0 + 20 * DAY));
    await expectEdgesRecounted();
    await expectWeeksCounted();
    await expectStatsEqualEngine();
  });

  it('rebuildRollups recounts it after a load that bypassed the triggers', async () => {
    await pool.query(`UPDATE week_edges SET starts = starts + 2 WHERE team_id = $1`, [TEAM]);
    await pool.query(`INSERT INTO week_edges VALUES ($1, '2020-01-01', 5, 1)`, [TEAM]);
    await pool.query('BEGIN');
    await rebuildRollups(pool, TEAM);
    await pool.query('COMMIT');
    await expectEdgesRecounted();
    await expectWeeksCounted();
    await expectStatsEqualEngine();
  });
});
