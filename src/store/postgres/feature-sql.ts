/**
 * Per-person features in SQL, with the engine's definitions (src/engine/features.ts `computeFeatures`; the store
 * may not import the engine, so the rules are restated here and tests compare the two on the same data): the
 * prediction's cross-products (regression.ts) and the segmentation's feature table (person-features.ts) both
 * build their rows from these expressions.
 *
 * - Purchases count in the 365 days before "as of" (frequency, monetary, category shares); recency is capped at
 *   365 days, also for never, so the last purchase inside those 365 days is all it needs.
 * - The engagement window is the 56 days before "as of": views, likes, shares, comments, clicks, engagements
 *   (likes + shares + comments + clicks) and the distinct days with any event, per week of the window the
 *   profile existed in and the data covers (at least one week).
 * - Rates over the lookback are per 30 days of the 365 the profile existed in and the data covers (at least a
 *   week); "existed" starts at the later of the profile's creation and the data's first event.
 */
import { ms } from './rows.ts';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
/** Days of purchase history (the engine's PURCHASE_LOOKBACK_DAYS) and the recency cap (RECENCY_CAP_DAYS). */
export const LOOKBACK_DAYS = 365;
/** Days of the engagement window (the engine's default windowDays); the active days fit one bigint's bits. */
export const WINDOW_DAYS = 56;

/** Where the expressions read their inputs: SQL for the instants (epoch ms, float8) and the row aliases. */
export interface FeatureRefs {
  /** "As of", epoch ms. */
  asOfMs: string;
  /** Start of the engagement window and of the purchase lookback, epoch ms (rates need them). */
  windowStartMs?: string;
  lookbackStartMs?: string;
  /** The later of the profile's creation and the data's first event, epoch ms (rates need it). */
  knownFromMs?: string;
  /** The profile's creation, epoch ms, when the caller computed it once (else from `created_at` here). */
  createdMs?: string;
  /** Alias of the profile row (`followers`, `created_at`). */
  profile: string;
  /** Alias of the person's counters (`personEvents` columns; null when the person has none). */
  events: string;
}

const ENGAGE_TYPES = `'like', 'share', 'comment', 'click'`;

/**
 * The per-person counters the expressions read, over the events in [lookback start, as of): `$team`, `$asOf`,
 * `$lookbackStart` and `$windowStart` are SQL for the workspace and the instants as timestamptz. With
 * `purchasesOnly`, just frequency, monetary and the last purchase; `where`, more conditions on the events
 * (`AND …` over their columns). The same columns are kept per person on write (feature-windows.ts).
 */
export function personEvents(p: {
  team: string;
  asOf: string;
  lookbackStart: string;
  windowStart: string;
  purchasesOnly: boolean;
  where?: string;
}): string {
  const inWindow = `at >= ${p.windowStart}`;
  const social = p.purchasesOnly
    ? ''
    : `count(*) FILTER (WHERE ${inWindow} AND type = 'view') AS views,
       count(*) FILTER (WHERE ${inWindow} AND type = 'like') AS likes,
       count(*) FILTER (WHERE ${inWindow} AND type = 'share') AS shares,
       count(*) FILTER (WHERE ${inWindow} AND type = 'comment') AS comments,
       count(*) FILTER (WHERE ${inWindow} AND type = 'click') AS clicks,
       count(*) FILTER (WHERE ${inWindow} AND type IN (${ENGAGE_TYPES})) AS engagements,
       -- Day d of the window is bit d (the window's 56 days fit a bigint); any event type marks its day.
       -- (date_part's float8 epoch of the exact interval: extract's numeric costs a third of the whole pass.)
       bit_or(1::bigint << floor(date_part('epoch', at - ${p.windowStart}) / 86400)::int) FILTER (WHERE ${inWindow}) AS active,`;
  return `SELECT user_id, ${social}
       count(*) FILTER (WHERE type = 'purchase') AS frequency,
       -- Summed exactly (numeric): parallel workers add partial sums in any order, and a float sum would
       -- then differ in its last bits from one run to the next.
       coalesce(sum(value::numeric) FILTER (WHERE type = 'purchase' AND value NOT IN ('NaN', 'Infinity', '-Infinity')), 0)::float8 AS monetary,
       max(at) FILTER (WHERE type = 'purchase') AS last
  FROM interactions
 WHERE team_id = ${p.team} AND at < ${p.asOf} AND ${
   // Before the window only purchases count: read through the purchases' own index, not every event of the year.
   p.purchasesOnly
     ? `at >= ${p.lookbackStart} AND type = 'purchase'`
     : `(${inWindow} OR (type = 'purchase' AND at >= ${p.lookbackStart}))`
 } ${p.where ?? ''}
 GROUP BY user_id`;
}

/** Counter columns per "per week" feature. */
const PER_WEEK: Record<string, string> = {
  engagement: 'engagements',
  likes_per_week: 'likes',
  shares_per_week: 'shares',
  comments_per_week: 'comments',
  clicks_per_week: 'clicks',
  views_per_week: 'views',
  active_days_per_week: 'active',
};

/** The SQL of one feature (float8, NULL for missing), or undefined when it is not computed in SQL. */
export function featureExpression(name: string, r: FeatureRefs): string | undefined {
  const { asOfMs, profile: p, events: e } = r;
  const count = (c: string) => `coalesce(${e}.${c}, 0)::float8`;
  switch (name) {
    case 'frequency':
    case 'monetary':
      return count(name);
    case 'recency_days':
      return `CASE WHEN ${e}.last IS NULL THEN ${LOOKBACK_DAYS}::float8
                   ELSE least(${LOOKBACK_DAYS}::float8, (${asOfMs} - ${ms(`${e}.last`)}) / ${DAY}) END`;
    case 'followers':
      return `${p}.followers::float8`;
    case 'log_followers':
      return `CASE WHEN ${p}.followers >= 0 THEN log(1 + ${p}.followers::float8) END`;
    case 'tenure_days':
      return `(${asOfMs} - ${r.createdMs ?? ms(`${p}.created_at`)}) / ${DAY}`;
    case 'engagement_rate':
      return `CASE WHEN ${e}.views > 0 THEN ${e}.engagements::float8 / ${e}.views END`;
    case 'avg_order_value':
      return `CASE WHEN ${e}.frequency > 0 THEN ${e}.monetary::float8 / ${e}.frequency END`;
    default:
      return rateExpression(name, r, count);
  }
}

/** Counters per week of the window or per 30 days of the lookback (see the module comment). */
function rateExpression(name: string, r: FeatureRefs, count: (c: string) => string): string | undefined {
  const { asOfMs, windowStartMs, lookbackStartMs, knownFromMs } = r;
  if (windowStartMs === undefined || lookbackStartMs === undefined || knownFromMs === undefined)
    return undefined;
  const weekly = PER_WEEK[name];
  if (weekly !== undefined) {
    const value =
      weekly === 'active' ? `coalesce(bit_count(${r.events}.active::bit(64)), 0)::float8` : count(weekly);
    return `${value} / greatest(1, (${asOfMs} - greatest(${windowStartMs}, ${knownFromMs})) / ${WEEK})`;
  }
  const monthly =
    name === 'purchases_per_month' ? 'frequency' : name === 'spend_per_month' ? 'monetary' : null;
  if (monthly === null) return undefined;
  return `${count(monthly)} / greatest(${WEEK / MONTH}, (${asOfMs} - greatest(${lookbackStartMs}, ${knownFromMs})) / ${MONTH})`;
}

/**
 * The values a feature's segment medians and means are stated in, from its column `x`: followers for
 * log_followers (clustered as log10(1 + f), described in followers, as the engine's traits do), else itself.
 */
export function describedAs(name: string, x: string): string {
  return name === 'log_followers' ? `(power(10::float8, ${x}) - 1)` : x;
}
