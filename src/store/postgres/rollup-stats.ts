/**
 * `stats` from the rollups when they answer it exactly: when no event lies at or after asOf (the usual "as of
 * now"). Everything is read from per-workspace rollups of bounded size (the tallies of rollups.ts, the 10-minute
 * slices of stats-buckets.ts and week-edges.ts) and from the events and profiles of at most five partial 10-minute
 * slices. Otherwise (stats as of a past instant) the caller scans the 60-day window (aggregates.ts). The figures are the engine's (src/engine/stats.ts),
 * compared on the same data in test/store/postgres/rollups.test.ts.
 */
import { type AudienceStats, statsFromCounts, type Tally } from '../../domain/audience-stats.ts';
import type { Queryable } from './claims.ts';
import { ms, ts } from './rows.ts';
import { BUCKET_MS } from './stats-buckets.ts';
import { WEEK_PEOPLE } from './week-edges.ts';

const DAY = 86_400_000;
const ENGAGE_TYPES = `'like', 'share', 'comment', 'click'`;

// People with a profile active since $3 (a week) and since $5 (30 days), and reached, engaged or buying since $5:
// the 10-minute slices from the first whole one ($4, $6) on (stats-buckets.ts), plus the people whose latest
// activity lies in the partial slice before it (candidates: that slice's events and profiles), less the profiles
// whose last_active_at is at or after asOf ($2): the slices count them, the engine does not (usually none).
const SLICE = (from: string, to: string) => `(SELECT c.user_id, a.known, greatest(a.last_at, a.seen) AS act,
    a.last_reach_at AS reach, a.last_engage_at AS engage, a.last_buy_at AS buy, a.user_id IS NULL AS bare,
    p.last_active_at AS seen, ${from}::timestamptz AS lo, ${to}::timestamptz AS hi
   FROM (SELECT user_id FROM interactions WHERE team_id = $1 AND at >= ${from} AND at < ${to}
         UNION SELECT id FROM profiles WHERE team_id = $1 AND last_active_at >= ${from} AND last_active_at < ${to}) c
   LEFT JOIN person_activity a ON a.team_id = $1 AND a.user_id = c.user_id
   LEFT JOIN profiles p ON p.team_id = $1 AND p.id = c.user_id)`;
const inSlice = (column: string) => `coalesce(known AND ${column} >= lo AND ${column} < hi, false)`;
const PEOPLE = `WITH
sums AS (
  SELECT coalesce(sum(people) FILTER (WHERE kind = 'active' AND bucket >= $4), 0) AS active7d,
         coalesce(sum(people) FILTER (WHERE kind = 'active'), 0) AS active30d,
         coalesce(sum(people) FILTER (WHERE kind = 'reach'), 0) AS reach,
         coalesce(sum(people) FILTER (WHERE kind = 'engage'), 0) AS engaged,
         coalesce(sum(people) FILTER (WHERE kind = 'buy'), 0) AS purchasers
    FROM activity_buckets WHERE team_id = $1 AND bucket >= $6),
week AS (SELECT count(*) FILTER (WHERE ${inSlice('act')} OR (bare AND seen >= lo AND seen < hi)) AS active
  FROM ${SLICE('$3', '$4')} AS s),
month AS (
  SELECT count(*) FILTER (WHERE ${inSlice('act')} OR (bare AND seen >= lo AND seen < hi)) AS active,
         count(*) FILTER (WHERE ${inSlice('reach')}) AS reach, count(*) FILTER (WHERE ${inSlice('engage')}) AS engaged,
         count(*) FILTER (WHERE ${inSlice('buy')}) AS purchasers
    FROM ${SLICE('$5', '$6')} AS s),
later AS (
  SELECT count(*) AS n, count(*) FILTER (WHERE a.last_at >= $3) AS week, count(*) FILTER (WHERE a.last_at >= $5) AS month
    FROM profiles p LEFT JOIN person_activity a ON a.team_id = p.team_id AND a.user_id = p.id
   WHERE p.team_id = $1 AND p.last_active_at >= $2)
SELECT (sums.active7d + week.active - later.n + later.week)::int AS active7d,
       (sums.active30d + month.active - later.n + later.month)::int AS active30d,
       (sums.reach + month.reach)::int AS reach, (sums.engaged + month.engaged)::int AS engaged,
       (sums.purchasers + month.purchasers)::int AS purchasers
  FROM sums, week, month, later`;

// People with a profile active in the week before last [$2, $3), from the week's starts and ends (week-edges.ts;
// $4, $5 the first slices at or after $2 and $3), which count everyone with an event or a profile seen then, less
// those without a profile ($6, the strangers of the 60 days, which include that week's) who had an event then.
const PREVIOUS_WEEK = `SELECT (${WEEK_PEOPLE}
  - (SELECT count(DISTINCT user_id) FROM interactions WHERE team_id = $1 AND user_id = ANY($6) AND at >= $2 AND at < $3)
  )::int AS active_prev_week`;

// New profiles ($2 asOf, $3 week, $4 prev week), from the created_at index.
const NEWCOMERS = `SELECT count(*) FILTER (WHERE created_at >= $3 AND created_at < $2)::int AS new_this_week,
       count(*) FILTER (WHERE created_at >= $4 AND created_at < $3)::int AS new_last_week,
       count(*) FILTER (WHERE created_at >= $3)::int AS since_week
  FROM profiles WHERE team_id = $1 AND created_at >= $4`;

// People active in the 60 days ($2) without a profile: their events are no one's (the engine's rule), so they
// are taken out of the counts and the revenue. Usually none or a few.
const STRANGERS = `SELECT coalesce(array_agg(user_id), '{}') AS ids FROM person_activity a
  WHERE a.team_id = $1 AND NOT a.known AND a.last_at >= $2`;

// Views, engagements and revenue of [$3 month, asOf) and revenue of [$2 prev month, $3): whole slices from
// $5 = the first slice at or after the month's start ($4 = its last before it, $6 = the prev month's first), the
// partial slices' events from the interactions, less the events of people without a profile ($7). Revenue is
// the exact sum (numeric), rounded once when read: the engine's figure (domain/exact-sum.ts).
const eventSums = (where: string) => `
  SELECT count(*) FILTER (WHERE at >= $3 AND type = 'view') AS views,
         count(*) FILTER (WHERE at >= $3 AND type IN (${ENGAGE_TYPES})) AS engagements,
         coalesce(sum(exact_numeric(coalesce(value, 0))) FILTER (WHERE at >= $3 AND type = 'purchase'), 0) AS revenue,
         coalesce(sum(exact_numeric(coalesce(value, 0))) FILTER (WHERE at < $3 AND type = 'purchase'), 0) AS revenue_prev
    FROM interactions WHERE team_id = $1 AND ${where}`;
const EVENTS = `WITH
b AS (
  SELECT coalesce(sum(views) FILTER (WHERE bucket >= $5), 0) AS views,
         coalesce(sum(engagements) FILTER (WHERE bucket >= $5), 0) AS engagements,
         coalesce(sum(revenue) FILTER (WHERE bucket >= $5), 0) AS revenue,
         coalesce(sum(revenue) FILTER (WHERE bucket < $4), 0) AS revenue_prev
    FROM event_buckets WHERE team_id = $1 AND bucket >= $6),
e AS (${eventSums('((at >= $2 AND at < $6) OR (at >= $4 AND at < $5))')}),
s AS (${eventSums('user_id = ANY($7) AND at >= $2')})
SELECT (b.views + e.views - s.views)::bigint AS views, (b.engagements + e.engagements - s.engagements)::bigint AS engagements,
       (b.revenue + e.revenue - s.revenue)::text AS revenue, (b.revenue_prev + e.revenue_prev - s.revenue_prev)::text AS revenue_prev
  FROM b, e, s`;

// The latest event: of a person with a profile inside the 60 days ($2), of anyone before them (the scan's rule).
const LATEST = `SELECT ${ms(`greatest(
    (SELECT j.at FROM interactions j WHERE j.team_id = $1 AND j.at >= $2
        AND EXISTS (SELECT 1 FROM profiles p WHERE p.team_id = $1 AND p.id = j.user_id)
      ORDER BY j.at DESC LIMIT 1),
    (SELECT max(at) FROM interactions WHERE team_id = $1 AND at < $2))`)} AS latest`;

const TOP = `SELECT value, n::int AS count FROM profile_tallies WHERE team_id = $1 AND dim = $2
  ORDER BY n DESC, value COLLATE "C" LIMIT $3`;

/** The first slice boundary at or after `t` (ms), and the last at or before it. */
const ceilSlice = (t: number) => Math.ceil(t / BUCKET_MS) * BUCKET_MS;
const floorSlice = (t: number) => Math.floor(t / BUCKET_MS) * BUCKET_MS;

/** The stats from the rollups, or undefined when an event lies at or after `asOf` (the caller scans). */
export async function rollupStats(
  db: Queryable,
  team: string,
  asOf: number,
  top: number,
): Promise<AudienceStats | undefined> {
  const { rows } = await db.query<{ latest: number | null }>(
    `SELECT ${ms('max(at)')} AS latest FROM interactions WHERE team_id = $1`,
    [team],
  );
  const newest = rows[0]?.latest ?? null;
  if (newest !== null && newest >= asOf) return undefined;
  const [week, prevWeek, month, prevMonth] = [7, 14, 30, 60].map((d) => asOf - d * DAY) as [
    number,
    number,
    number,
    number,
  ];
  const t = (x: number) => ts(x) as string;
  const q = async (sql: string, params: unknown[]) => (await db.query(sql, [team, ...params])).rows[0];
  const people = await q(PEOPLE, [asOf, week, ceilSlice(week), month, ceilSlice(month)].map(t));
  const fresh = await q(NEWCOMERS, [t(asOf), t(week), t(prevWeek)]);
  const strangers = ((await q(STRANGERS, [t(prevMonth)])) as { ids: string[] }).ids;
  const previous = await q(PREVIOUS_WEEK, [
    ...[prevWeek, week, ceilSlice(prevWeek), ceilSlice(week)].map(t),
    strangers,
  ]);
  const slices = [month, floorSlice(month), ceilSlice(month), ceilSlice(prevMonth)].map(t);
  const events = await q(EVENTS, [t(prevMonth), ...slices, strangers]);
  const latest = await q(LATEST, [t(prevMonth)]);
  const tally = async (dim: string, total: number): Promise<Tally[]> =>
    (await db.query<{ value: string; count: number }>(TOP, [team, dim, top])).rows.map((r) => ({
      value: r.value,
      count: r.count,
      share: r.count / (total || 1),
    }));
  const total = (await tally('total', 1))[0]?.count ?? 0;
  return statsFromCounts({
    asOf,
    total,
    totalWeekAgo: total - fresh.since_week,
    newThisWeek: fresh.new_this_week,
    newLastWeek: fresh.new_last_week,
    active7d: people.active7d,
    activePrevWeek: previous.active_prev_week,
    active30d: people.active30d,
    reach30d: people.reach,
    engaged30d: people.engaged,
    engagements30d: Number(events.engagements),
    views30d: Number(events.views),
    purchasers30d: people.purchasers,
    // The exact sums' decimal text, read as the nearest double: the exact total rounded once.
    revenue30d: Number(events.revenue),
    revenuePrev30d: Number(events.revenue_prev),
    top: {
      countries: await tally('country', total),
      platforms: await tally('platform', total),
      interests: await tally('interest', total),
    },
    latestInteraction: latest.latest,
  });
}
