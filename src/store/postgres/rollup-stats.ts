/**
 * `stats` from the rollups (rollups.ts) when they answer it exactly: when no event lies at or after asOf (the
 * usual "as of now"), each person's latest events tell who was active, reached, engaged or bought in every
 * window. Otherwise (stats as of a past instant) the caller scans the 60-day window (aggregates.ts). The figures
 * are the engine's (src/engine/stats.ts), compared on the same data in test/store/postgres/rollups.test.ts.
 */
import { type AudienceStats, statsFromCounts, type Tally } from '../../domain/audience-stats.ts';
import type { Queryable } from './claims.ts';
import { ms, ts } from './rows.ts';

const DAY = 86_400_000;
const ENGAGE_TYPES = `'like', 'share', 'comment', 'click'`;

// People with a profile who were active in the last 30 days ($2 asOf, $3 week, $4 prev week, $5 month): from
// their latest events, their profile's own last_active_at, and the events of the week before last.
const PEOPLE = `WITH
act AS (
  SELECT a.user_id, a.last_at >= $3 AS w1, coalesce(a.last_reach_at >= $5, false) AS reached,
         coalesce(a.last_engage_at >= $5, false) AS engaged, coalesce(a.last_buy_at >= $5, false) AS buy
    FROM person_activity a WHERE a.team_id = $1 AND a.known AND a.last_at >= $5),
seen AS (
  SELECT id AS user_id, last_active_at AS seen FROM profiles
   WHERE team_id = $1 AND last_active_at >= $5 AND last_active_at < $2),
prev AS (SELECT DISTINCT user_id FROM interactions WHERE team_id = $1 AND at >= $4 AND at < $3),
people AS (
  SELECT coalesce(a.w1, false) OR coalesce(s.seen >= $3, false) AS w1,
         pr.user_id IS NOT NULL OR coalesce(s.seen >= $4 AND s.seen < $3, false) AS w2,
         coalesce(a.reached, false) AS reached, coalesce(a.engaged, false) AS engaged, coalesce(a.buy, false) AS buy
    FROM act a FULL JOIN seen s ON s.user_id = a.user_id
    LEFT JOIN prev pr ON pr.user_id = coalesce(a.user_id, s.user_id))
SELECT count(*) FILTER (WHERE w1)::int AS active7d, count(*) FILTER (WHERE w2)::int AS active_prev_week,
       count(*)::int AS active30d, count(*) FILTER (WHERE buy)::int AS purchasers,
       count(*) FILTER (WHERE reached)::int AS reach, count(*) FILTER (WHERE engaged)::int AS engaged
  FROM people`;

// New profiles ($2 asOf, $3 week, $4 prev week), from the created_at index.
const NEWCOMERS = `SELECT count(*) FILTER (WHERE created_at >= $3 AND created_at < $2)::int AS new_this_week,
       count(*) FILTER (WHERE created_at >= $4 AND created_at < $3)::int AS new_last_week,
       count(*) FILTER (WHERE created_at >= $3)::int AS since_week
  FROM profiles WHERE team_id = $1 AND created_at >= $4`;

// Views and engagements of the 30 days: whole UTC days [$2, $3) from the day rollup, the partial days
// [$4, $5) and [$6, $7) from the interactions.
const EVENTS = `SELECT
  (SELECT coalesce(sum(events) FILTER (WHERE type = 'view'), 0) FROM interaction_days
    WHERE team_id = $1 AND day >= $2::date AND day < $3::date)
  + (SELECT count(*) FROM interactions WHERE team_id = $1 AND type = 'view'
      AND ((at >= $4 AND at < $5) OR (at >= $6 AND at < $7))) AS views,
  (SELECT coalesce(sum(events) FILTER (WHERE type IN (${ENGAGE_TYPES})), 0) FROM interaction_days
    WHERE team_id = $1 AND day >= $2::date AND day < $3::date)
  + (SELECT count(*) FROM interactions WHERE team_id = $1 AND type IN (${ENGAGE_TYPES})
      AND ((at >= $4 AND at < $5) OR (at >= $6 AND at < $7))) AS engagements`;

// People active in the 60 days ($2) without a profile: their events are no one's (the engine's rule), so they
// are taken out of the counts and the revenue. Usually none or a few; listed first so their events are read by
// person and the purchases need no lookup.
const STRANGERS = `SELECT coalesce(array_agg(user_id), '{}') AS ids FROM person_activity a
  WHERE a.team_id = $1 AND NOT a.known AND a.last_at >= $2`;
const STRANGER_EVENTS = `SELECT count(*) FILTER (WHERE type = 'view') AS views,
       count(*) FILTER (WHERE type IN (${ENGAGE_TYPES})) AS engagements
  FROM interactions WHERE team_id = $1 AND user_id = ANY($2) AND at >= $3 AND at < $4`;

// Revenue of the two 30-day windows ($2 asOf, $3 month, $4 prev month) in data order (the engine's rounding),
// without the purchases of people with no profile ($5),
// and the latest event: of a person with a profile inside the 60 days, of anyone before them (the scan's rule).
const REVENUE = `SELECT
  coalesce(sum(coalesce(value, 0) ORDER BY seq) FILTER (WHERE at >= $3), 0) AS revenue,
  coalesce(sum(coalesce(value, 0) ORDER BY seq) FILTER (WHERE at < $3), 0) AS revenue_prev,
  ${ms(`greatest(
    (SELECT j.at FROM interactions j WHERE j.team_id = $1 AND j.at >= $4
        AND EXISTS (SELECT 1 FROM profiles p WHERE p.team_id = $1 AND p.id = j.user_id)
      ORDER BY j.at DESC LIMIT 1),
    (SELECT max(at) FROM interactions WHERE team_id = $1 AND at < $4))`)} AS latest
  FROM interactions i WHERE team_id = $1 AND type = 'purchase' AND at >= $4 AND at < $2 AND user_id <> ALL($5)`;

const TOP = `SELECT value, n::int AS count FROM profile_tallies WHERE team_id = $1 AND dim = $2
  ORDER BY n DESC, value COLLATE "C" LIMIT $3`;

/** A UTC day as a date literal. */
const day = (t: number) => new Date(t).toISOString().slice(0, 10);

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
  const people = (await db.query(PEOPLE, [team, t(asOf), t(week), t(prevWeek), t(month)])).rows[0];
  const fresh = (await db.query(NEWCOMERS, [team, t(asOf), t(week), t(prevWeek)])).rows[0];
  // Whole days inside [month, asOf); the rest of the window is read from the events.
  const first = Math.ceil(month / DAY) * DAY;
  const last = Math.floor(asOf / DAY) * DAY;
  const whole = first < last;
  const edges: number[] = whole ? [month, first, last, asOf] : [month, asOf, asOf, asOf];
  const events = (
    await db.query(EVENTS, [team, day(whole ? first : 0), day(whole ? last : 0), ...edges.map(t)])
  ).rows[0];
  const strangers = (await db.query<{ ids: string[] }>(STRANGERS, [team, t(prevMonth)])).rows[0]?.ids ?? [];
  const theirs =
    strangers.length === 0
      ? { views: 0, engagements: 0 }
      : (await db.query(STRANGER_EVENTS, [team, strangers, t(month), t(asOf)])).rows[0];
  const money = (await db.query(REVENUE, [team, t(asOf), t(month), t(prevMonth), strangers])).rows[0];
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
    activePrevWeek: people.active_prev_week,
    active30d: people.active30d,
    reach30d: people.reach,
    engaged30d: people.engaged,
    engagements30d: Number(events.engagements) - Number(theirs.engagements),
    views30d: Number(events.views) - Number(theirs.views),
    purchasers30d: people.purchasers,
    revenue30d: money.revenue,
    revenuePrev30d: money.revenue_prev,
    top: {
      countries: await tally('country', total),
      platforms: await tally('platform', total),
      interests: await tally('interest', total),
    },
    latestInteraction: money.latest,
  });
}
