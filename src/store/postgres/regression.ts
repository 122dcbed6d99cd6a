/**
 * The cross-products of a spend prediction, aggregated in SQL over every training row (the seam's
 * `audience.aggregate({ kind: 'cross-products' })`): the app solves them (src/engine/ols-sums.ts) without reading
 * a profile or an interaction, and gets the engine's full-data coefficients (src/engine/predict.ts) on the same
 * data. The rows and features follow the engine's definitions (src/engine/features.ts, buildTrainingSet):
 * profiles that existed at the cutoff; features at the cutoff (purchases before it; frequency and monetary over
 * the 365 days before; recency capped at 365 days, also for never); target = spend in the 30 days from the
 * cutoff (an amount, else the product's list price, else 0); missing values filled with the column's median.
 * Sums are taken in two passes (means, then centred products), so large values lose no precision.
 *
 * Answered for the features below; any other feature (rates over the engagement window, attributes) is left
 * to the app (undefined).
 */
import type pg from 'pg';
import type { CrossProducts } from '../../domain/cross-products.ts';
import type { Queryable } from './claims.ts';
import { inTransaction } from './connect.ts';
import { type FeatureRefs, featureExpression, LOOKBACK_DAYS, personEvents } from './feature-sql.ts';
import { anchoredAt, countersAt, FEATURE_SLOTS } from './feature-windows.ts';
import { ts } from './rows.ts';

const DAY = 86_400_000;
const HORIZON = 30 * DAY;
const LOOKBACK = LOOKBACK_DAYS * DAY;

// The features are the shared per-person expressions (feature-sql.ts) over `r` (profile) and `pa` (its
// purchases before the cutoff); the rates over the engagement window are not among them here.
const REFS: FeatureRefs = { asOfMs: '$5::float8', profile: 'r', events: 'pa' };
const FEATURES = ['frequency', 'monetary', 'recency_days', 'followers', 'log_followers', 'tenure_days'];
const FEATURE_SQL: Record<string, string> = Object.fromEntries(
  FEATURES.map((f) => [f, featureExpression(f, REFS) as string]),
);

/** Whether every feature can be computed in SQL. */
export function sqlFeatures(features: readonly string[]): boolean {
  return features.length > 0 && features.every((f) => Object.hasOwn(FEATURE_SQL, f));
}

/** X'X, X'y and y'y of the spend fit at `cutoff` over `features` (see the module comment). */
export async function spendCrossProducts(
  db: Queryable,
  team: string,
  features: readonly string[],
  cutoff: number,
): Promise<CrossProducts> {
  if (!('connect' in db)) return crossProductsIn(db, team, features, cutoff);
  // One snapshot: whether the anchor is at the cutoff, and its counters.
  return inTransaction(db as pg.Pool, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', (client) =>
    crossProductsIn(client, team, features, cutoff),
  );
}

async function crossProductsIn(
  db: Queryable,
  team: string,
  features: readonly string[],
  cutoff: number,
): Promise<CrossProducts> {
  const p = features.length;
  const cols = features.map((_, j) => `x${j}`);
  const pairs: string[] = [];
  for (let j = 0; j < p; j++)
    for (let k = j; k < p; k++) pairs.push(`sum((x${j} - m${j}) * (x${k} - m${k})) AS s_${j}_${k}`);
  // The cutoff anchor's counters when it is there (predict keeps it at the default cutoff), else the events.
  const past = (await anchoredAt(db, team, FEATURE_SLOTS.train, cutoff))
    ? `${countersAt('$1', FEATURE_SLOTS.train, '$2::timestamptz', false)} AND $3::timestamptz IS NOT NULL`
    : personEvents({
        team: '$1',
        asOf: '$2::timestamptz',
        lookbackStart: '$3::timestamptz',
        windowStart: '$2::timestamptz',
        purchasesOnly: true,
      });
  const sql = `
WITH rows AS (
  SELECT id, followers, created_at FROM profiles
   -- $5 (the cutoff in epoch ms) is read by recency and tenure; named here so every feature set binds it.
   WHERE team_id = $1 AND $5::float8 IS NOT NULL AND (created_at IS NULL OR created_at < $2::timestamptz)),
past AS (${past}),
future AS (
  SELECT i.user_id, sum(coalesce(nullif(i.value, 'NaN'), pr.price, 0)) AS spend
    FROM interactions i LEFT JOIN products pr ON pr.team_id = i.team_id AND pr.id = i.item_id
   WHERE i.team_id = $1 AND i.type = 'purchase' AND i.at >= $2::timestamptz AND i.at < $4::timestamptz
   GROUP BY i.user_id),
raw AS (
  SELECT ${features.map((f, j) => `${FEATURE_SQL[f]} AS r${j}`).join(', ')}, coalesce(f.spend, 0)::float8 AS y
    FROM rows r LEFT JOIN past pa ON pa.user_id = r.id LEFT JOIN future f ON f.user_id = r.id),
med AS (
  SELECT ${cols.map((_, j) => `coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY r${j}), 0) AS med${j}, count(*) - count(r${j}) AS miss${j}`).join(', ')}
    FROM raw),
filled AS (
  SELECT ${cols.map((c, j) => `coalesce(r${j}, med${j}) AS ${c}`).join(', ')}, y FROM raw, med),
mean AS (
  SELECT count(*) AS n, avg(y) AS my, ${cols.map((c, j) => `avg(${c}) AS m${j}`).join(', ')} FROM filled)
SELECT mean.*, med.*, ${pairs.join(', ')},
       ${cols.map((c, j) => `sum((${c} - m${j}) * (y - my)) AS sy${j}`).join(', ')},
       sum((y - my) * (y - my)) AS syy
  FROM filled, mean, med GROUP BY ${['n', 'my', ...cols.map((_, j) => `m${j}`), ...cols.flatMap((_, j) => [`med${j}`, `miss${j}`])].join(', ')}`;
  const { rows } = await db.query(sql, [
    team,
    ts(cutoff),
    ts(cutoff - LOOKBACK),
    ts(cutoff + HORIZON),
    cutoff,
  ]);
  const r = (rows[0] ?? {}) as Record<string, number>;
  const at = (name: string) => Number(r[name] ?? 0);
  const sxx = features.map((_, j) => features.map((__, k) => at(j <= k ? `s_${j}_${k}` : `s_${k}_${j}`)));
  return {
    n: at('n'),
    names: [...features],
    means: features.map((_, j) => at(`m${j}`)),
    yMean: at('my'),
    medians: features.map((_, j) => at(`med${j}`)),
    imputed: features.map((_, j) => at(`miss${j}`)),
    sxx,
    sxy: features.map((_, j) => at(`sy${j}`)),
    syy: at('syy'),
  };
}
