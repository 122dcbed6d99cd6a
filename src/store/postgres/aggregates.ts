/**
 * Aggregates answered in SQL (the seam's `audience.aggregate`), so the app does not load the audience for them.
 * Each gives the same result as the engine's computation on the same data (src/engine/stats.ts for 'stats'):
 * the same windows, the same rules for people without a profile, revenue as the exact sum rounded once.
 * The store may not import the engine, so the result is built to the engine's shape here and a test
 * compares the two on generated data.
 *
 * Answered: `{ kind: 'stats', params: { asOf, top? } }` for the whole audience, and `{ kind: 'cross-products' }`
 * of a spend prediction (regression.ts). Anything else (a filter, another kind) is left to the app (undefined).
 */

import type pg from 'pg';
import { type AudienceStats, statsFromCounts } from '../../domain/audience-stats.ts';
import type { AggregateQuery } from '../store.ts';
import type { Queryable } from './claims.ts';
import { inTransaction } from './connect.ts';
import { spendCrossProducts, sqlFeatures } from './regression.ts';
import { rollupStats } from './rollup-stats.ts';
import { ms, ts } from './rows.ts';

const DAY = 86_400_000;

/** The backend's answer to an aggregate, or undefined when the app should compute it. */
export async function answerAggregate(db: Queryable, team: string, query: AggregateQuery): Promise<unknown> {
  if (query.kind === 'cross-products') return crossProducts(db, team, query.params);
  if (query.kind !== 'stats') return undefined;
  const { asOf, top, ...rest } = query.params as { asOf?: unknown; top?: unknown };
  if (typeof asOf !== 'number' || Object.keys(rest).length > 0) return undefined;
  return audienceStats(db, team, asOf, typeof top === 'number' ? top : 5);
}

/** `{ kind: 'cross-products', params: { target: 'spend_next_30d', features, cutoff } }` (see regression.ts). */
function crossProducts(db: Queryable, team: string, params: Readonly<Record<string, unknown>>) {
  const { target, features, cutoff } = params as { target?: unknown; features?: unknown; cutoff?: unknown };
  if (target !== 'spend_next_30d' || typeof cutoff !== 'number') return undefined;
  if (!Array.isArray(features) || !features.every((f) => typeof f === 'string')) return undefined;
  return sqlFeatures(features) ? spendCrossProducts(db, team, features, cutoff) : undefined;
}

/** The windows of the stats, as timestamptz parameters $2..$6 after the team ($1). */
function windows(asOf: number): Array<string | null> {
  return [asOf, asOf - 7 * DAY, asOf - 14 * DAY, asOf - 30 * DAY, asOf - 60 * DAY].map(ts);
}

// The interaction types that count as engagement (the engine's rule in src/engine/stats.ts).
const ENGAGEMENT_TYPES = `'like', 'share', 'comment', 'click'`;

// Events of the last 60 days before asOf, with whether their person has a profile (others are ignored).
const EVENTS = `w AS (
  SELECT $2::timestamptz AS as_of, $3::timestamptz AS week, $4::timestamptz AS prev_week,
         $5::timestamptz AS month, $6::timestamptz AS prev_month),
ev AS (
  SELECT i.seq, i.user_id, i.type, i.value, i.at, (p.id IS NOT NULL) AS known
    FROM w, interactions i LEFT JOIN profiles p ON p.team_id = i.team_id AND p.id = i.user_id
   WHERE i.team_id = $1 AND i.at >= w.prev_month AND i.at < w.as_of)`;

// Who did what in the windows: aggregated per person straight from the interactions (the join with profiles
// below drops people without one), which keeps the profiles out of the per-event work.
const PEOPLE = `WITH w AS (
  SELECT $2::timestamptz AS as_of, $3::timestamptz AS week, $4::timestamptz AS prev_week,
         $5::timestamptz AS month, $6::timestamptz AS prev_month),
flags AS (
  SELECT user_id, bool_or(at >= w.week) AS w1, bool_or(at >= w.prev_week AND at < w.week) AS w2, bool_or(at >= w.month) AS m30,
         bool_or(at >= w.month AND type = 'purchase') AS buy,
         -- Reached: saw content (a view, or an engagement, which implies seeing it); engaged: liked, shared, …
         bool_or(at >= w.month AND type IN ('view', ${ENGAGEMENT_TYPES})) AS reached,
         bool_or(at >= w.month AND type IN (${ENGAGEMENT_TYPES})) AS engaged
    FROM w, interactions i WHERE i.team_id = $1 AND i.at >= w.prev_month AND i.at < w.as_of GROUP BY user_id),
people AS (
  -- A profile's own last_active_at counts too (imported without interactions), when before asOf.
  SELECT p.created_at AS created, CASE WHEN p.last_active_at < w.as_of THEN p.last_active_at END AS seen,
         coalesce(f.w1, false) AS w1, coalesce(f.w2, false) AS w2, coalesce(f.m30, false) AS m30,
         coalesce(f.buy, false) AS buy, coalesce(f.reached, false) AS reached, coalesce(f.engaged, false) AS engaged
    FROM w, profiles p LEFT JOIN flags f ON f.user_id = p.id WHERE p.team_id = $1)
SELECT count(*)::int AS total,
       count(*) FILTER (WHERE created IS NULL OR created < w.week)::int AS total_week_ago,
       count(*) FILTER (WHERE created >= w.week AND created < w.as_of)::int AS new_this_week,
       count(*) FILTER (WHERE created >= w.prev_week AND created < w.week)::int AS new_last_week,
       count(*) FILTER (WHERE w1 OR seen >= w.week)::int AS active7d,
       count(*) FILTER (WHERE w2 OR (seen >= w.prev_week AND seen < w.week))::int AS active_prev_week,
       count(*) FILTER (WHERE m30 OR seen >= w.month)::int AS active30d,
       count(*) FILTER (WHERE buy)::int AS purchasers,
       count(*) FILTER (WHERE reached)::int AS reach,
       count(*) FILTER (WHERE engaged)::int AS engaged
  FROM w, people`;

// Revenue is the exact sum (numeric, see stats-buckets.ts) rounded once when read, as the engine rounds it.
const EVENT_TOTALS = `WITH ${EVENTS}
SELECT count(*) FILTER (WHERE known AND at >= w.month AND type = 'view')::int AS views,
       count(*) FILTER (WHERE known AND at >= w.month AND type IN (${ENGAGEMENT_TYPES}))::int AS engagements,
       coalesce(sum(exact_numeric(coalesce(value, 0))) FILTER (WHERE known AND type = 'purchase' AND at >= w.month), 0)::text AS revenue,
       coalesce(sum(exact_numeric(coalesce(value, 0))) FILTER (WHERE known AND type = 'purchase' AND at < w.month), 0)::text AS revenue_prev,
       -- Before the window anyone's event counts; inside it only those of people with a profile (the engine's rule).
       ${ms('greatest(max(at) FILTER (WHERE known), (SELECT max(at) FROM interactions WHERE team_id = $1 AND at < $6::timestamptz))')} AS latest
  FROM w, ev`;

// The most common values; ties by value in code-point order, as the engine sorts them.
const TOP = (values: string) => `SELECT v AS value, count(*)::int AS count
  FROM profiles, LATERAL ${values} AS t(v) WHERE team_id = $1 AND v IS NOT NULL
 GROUP BY v ORDER BY count(*) DESC, v COLLATE "C" LIMIT $2`;

/** The one row of PEOPLE (counts of profiles). */
interface PeopleRow {
  total: number;
  total_week_ago: number;
  new_this_week: number;
  new_last_week: number;
  active7d: number;
  active_prev_week: number;
  active30d: number;
  purchasers: number;
  reach: number;
  engaged: number;
}

/** The one row of EVENT_TOTALS. */
interface EventRow {
  views: number;
  engagements: number;
  /** Exact sums as decimal text. */
  revenue: string;
  revenue_prev: string;
  latest: number | null;
}

/**
 * The stats in one read-only transaction: every query sees the same data, and the per-person aggregation gets
 * the memory to stay off disk (PostgreSQL's default work_mem, 4 MB, spills it to temporary files at a few
 * hundred thousand people). Inside an open change the change's own transaction is used as it is.
 */
async function audienceStats(db: Queryable, team: string, asOf: number, top: number): Promise<AudienceStats> {
  if (!('connect' in db)) return statsQueries(db, team, asOf, top);
  return inTransaction(db as pg.Pool, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => {
    await client.query(`SET LOCAL work_mem = '${STATS_WORK_MEM}'`);
    return statsQueries(client, team, asOf, top);
  });
}

/** Memory for the stats' per-person aggregation (per query, in one transaction at a time). */
const STATS_WORK_MEM = '64MB';

async function statsQueries(db: Queryable, team: string, asOf: number, top: number): Promise<AudienceStats> {
  // The rollups answer "as of now" (no event at or after asOf); a past instant scans its 60-day window.
  const rolled = await rollupStats(db, team, asOf, top);
  if (rolled) return rolled;
  const params = [team, ...windows(asOf)];
  const people = (await db.query<PeopleRow>(PEOPLE, params)).rows[0] as PeopleRow;
  const events = (await db.query<EventRow>(EVENT_TOTALS, params)).rows[0] as EventRow;
  const n = people.total;
  const tally = async (expression: string) =>
    (await db.query<{ value: string; count: number }>(TOP(expression), [team, top])).rows.map((r) => ({
      value: r.value,
      count: r.count,
      share: r.count / (n || 1),
    }));
  const { views, engagements, revenue } = events;
  return statsFromCounts({
    asOf,
    total: n,
    totalWeekAgo: people.total_week_ago,
    newThisWeek: people.new_this_week,
    newLastWeek: people.new_last_week,
    active7d: people.active7d,
    activePrevWeek: people.active_prev_week,
    active30d: people.active30d,
    reach30d: people.reach,
    engaged30d: people.engaged,
    engagements30d: engagements,
    views30d: views,
    purchasers30d: people.purchasers,
    revenue30d: Number(revenue),
    revenuePrev30d: Number(events.revenue_prev),
    top: {
      countries: await tally('(SELECT country)'),
      platforms: await tally('(SELECT platform)'),
      interests: await tally('unnest(interests)'),
    },
    latestInteraction: events.latest,
  });
}
