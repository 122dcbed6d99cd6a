/**
 * Prediction rows in SQL (the seam's `audience.predictions`): each person's features and target computed by the
 * database with the engine's definitions (src/engine/features.ts, predict.ts `buildTrainingSet`), so the app
 * fits `/audience predict` on every row without reading one. A fit opens the rows once (the profiles joined with
 * the window counters of each instant, into an unlogged table of its repeatable-read transaction, never committed,
 * so that PostgreSQL can read it in parallel), then asks for a few passes over that table: column stats (means,
 * gaps, medians), pattern sums, per cross-validation fold when it cross-validates (engine/fold-sums.ts turns them
 * into each fold's cross-products, so k folds cost one pass), and the error sums of fitted scores (every check,
 * and everyone's forecast, in one pass); the app solves the sums (engine/predict-sums.ts) between the steps. A
 * forecast applies a fitted score to everyone, a segment or some people at "now", summed in SQL.
 *
 * Definitions, as the engine's: rows are the profiles that existed at the instant (created before it, or
 * unknown); purchases before it count for frequency and monetary over the 365 days before, recency (capped at
 * 365 days, also for never) over any time; the engagement window is the 56 days before, rates divide by the
 * weeks (months for the purchase lookback) in which the profile existed and the data covers, at least one week;
 * the target is spend in the 30 days from the instant (an amount, else the product's list price, else 0) or a
 * numeric attribute (rows without one left out); missing values are filled with the column's median.
 * A person's cross-validation fold is md5("<seed>:<id>")'s first 32 bits modulo the folds (domain/folds.ts).
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type {
  ColumnStats,
  ErrorSums,
  FoldScore,
  LinearScore,
  PatternSums,
} from '../../domain/cross-products.ts';
import type { AttributeKind } from '../../domain/types.ts';
import type {
  ForecastQuery,
  ForecastSums,
  PredictionRows,
  PredictionRowsQuery,
  PredictionSet,
  PredictionSource,
} from '../store.ts';
import type { Queryable } from './claims.ts';
import { inTransaction } from './connect.ts';
import { type FeatureRefs, featureExpression, personEvents } from './feature-sql.ts';
import { anchoredAt, anchorFeatures, countersAt, FEATURE_SLOTS } from './feature-windows.ts';
import { readAttributeKinds, readMeta } from './reads.ts';
import { ms, ts } from './rows.ts';

const DAY = 86_400_000;
const HORIZON = 30 * DAY;
const LOOKBACK = 365 * DAY;
const WINDOW = 56 * DAY;
const SPEND = 'spend_next_30d';
/**
 * A timestamptz column in epoch ms, equal to rows.ts `ms` (the exact value rounded once) at a third of its cost:
 * date_part's float8 seconds carry the exact microseconds (up to 2^53 µs, the year 2255), recovered by rounding.
 */
function exactMs(column: string): string {
  return `CASE WHEN isfinite(${column}) THEN (date_part('epoch', ${column}) * 1000000)::bigint / 1000::float8 ELSE ${ms(column)} END`;
}
/** Memory for the per-person aggregation and the medians' sorts (per query, one fit at a time per client). */
const WORK_MEM = '128MB';

/**
 * The built-in features (feature-sql.ts `featureExpression`, shared with segments), and whether each reads the
 * person's events (else only the profile) and can be missing (a ratio with nothing to divide by).
 */
const BUILTIN: Record<string, { events: boolean; missing: boolean }> = {
  frequency: { events: true, missing: false },
  monetary: { events: true, missing: false },
  recency_days: { events: true, missing: false },
  engagement: { events: true, missing: false },
  likes_per_week: { events: true, missing: false },
  shares_per_week: { events: true, missing: false },
  comments_per_week: { events: true, missing: false },
  clicks_per_week: { events: true, missing: false },
  views_per_week: { events: true, missing: false },
  active_days_per_week: { events: true, missing: false },
  engagement_rate: { events: true, missing: true },
  purchases_per_month: { events: true, missing: false },
  spend_per_month: { events: true, missing: false },
  avg_order_value: { events: true, missing: true },
  followers: { events: false, missing: true },
  log_followers: { events: false, missing: true },
  tenure_days: { events: false, missing: true },
};

/** A built-in feature's SQL at instant `w`, over the profile `p` and the instant's counters `e_<key>`. */
function builtinSql(name: string, w: Instant): string {
  // Placeholders first: an instant's parameter is added when first named, and must then be used.
  const refs: FeatureRefs = {
    asOfMs: '@ms@',
    windowStartMs: `(@ms@ - ${WINDOW})`,
    lookbackStartMs: `(@ms@ - ${LOOKBACK})`,
    // Where the profile's history starts for the rates: its sign-up, but not before the data's first event.
    // (`created_ms`: computed once per profile by `rowsSql`'s inner level, not once per feature and instant.)
    knownFromMs: 'greatest(p.created_ms, @history@)',
    createdMs: 'p.created_ms',
    profile: 'p',
    events: `e_${w.key}`,
  };
  const sql = featureExpression(name, refs) as string;
  return sql.replace(/@(ms|history)@/g, (_, which: 'ms' | 'history') => w[which]);
}

/** Whether a feature is computed here: the built-ins, and numeric, yes/no and date attributes. */
function computes(feature: string, kind: AttributeKind | undefined): boolean {
  if (Object.hasOwn(BUILTIN, feature)) return true;
  return kind === 'number' || kind === 'boolean' || kind === 'date';
}

/** Query parameters, numbered as they are added; the workspace is always $1. */
class Params {
  readonly values: unknown[];
  readonly team = '$1';
  /** `team`: the workspace as $1, or null for a statement that reads only the fit's table of rows. */
  constructor(team: string | null) {
    this.values = team === null ? [] : [team];
  }
  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

/** An instant's SQL names: the instant as timestamptz and epoch ms, its windows, and its counters' columns. */
interface Instant {
  key: string;
  at: string;
  /** The end of the target's 30 days. */
  end: string;
  ms: string;
  window: string;
  lookback: string;
  /** When the data's history begins for this instant's rates (epoch ms). */
  history: string;
}

function instant(params: Params, key: string, at: number, firstEvent: number | null): Instant {
  // Each parameter is added when the statement first uses it: an unused one has no type PostgreSQL can infer.
  const lazy = (value: () => unknown, cast: string) => {
    let name: string | null = null;
    return () => {
      name ??= params.add(value(), cast);
      return name;
    };
  };
  const names = {
    at: lazy(() => ts(at), '::timestamptz'),
    end: lazy(() => ts(at + HORIZON), '::timestamptz'),
    ms: lazy(() => at, '::float8'),
    window: lazy(() => ts(at - WINDOW), '::timestamptz'),
    lookback: lazy(() => ts(at - LOOKBACK), '::timestamptz'),
    // The engine's rule: the earliest event before the instant, or the instant itself when there is none.
    history: lazy(() => (firstEvent !== null && firstEvent < at ? firstEvent : at), '::float8'),
  };
  return {
    key,
    get at() {
      return names.at();
    },
    get end() {
      return names.end();
    },
    get ms() {
      return names.ms();
    },
    get window() {
      return names.window();
    },
    get lookback() {
      return names.lookback();
    },
    get history() {
      return names.history();
    },
  };
}

/**
 * An attribute's stored value as float8 (a number, yes/no as 1/0, a date as epoch ms), read from the profile `p`
 * once per person (the inner level of `rowsSql`); null when absent or of another type.
 */
function attributeValue(params: Params, name: string, kind: AttributeKind): string {
  const key = params.add(name, '::text');
  if (kind === 'boolean')
    return `CASE WHEN jsonb_typeof(p.attrs -> ${key}) = 'boolean' THEN CASE WHEN (p.attrs -> ${key})::boolean THEN 1 ELSE 0 END END::float8`;
  return `CASE WHEN jsonb_typeof(p.attrs -> ${key}) = 'number' THEN (p.attrs ->> ${key})::float8 END`;
}

/** An attribute feature's value at instant `w` from its stored value `v` (`attributeValue`). */
function attributeSql(v: string, kind: AttributeKind, w: Instant): string {
  if (kind === 'date') return `CASE WHEN ${v} <= ${w.ms} THEN (${w.ms} - ${v}) / ${DAY} END`;
  return v;
}

/** What a person-rows statement computes: features and target at some instants, for some profiles. */
interface RowsSpec {
  target: string;
  features: readonly string[];
  kinds: Readonly<Record<string, AttributeKind>>;
  /**
   * The instants, by key (column suffix); `slot`: the anchor whose counters are at this instant
   * (feature-windows.ts), or null to count the events.
   */
  instants: ReadonlyArray<{ key: string; at: number; withTarget: boolean; slot: number | null }>;
  /** Which profiles: a SQL condition on `p`, and the same on an events' `user_id` column. */
  people: (params: Params) => { profiles: string; events: (userId: string) => string };
  folds?: { k: number; seed: number };
  firstEvent: number | null;
}

/**
 * A person's cross-validation fold from their id (SQL `id`): md5("<seed>:<id>")'s first 32 bits modulo the folds
 * (domain/folds.ts). About 2 µs a person, most of it md5: computed only for the fits that cross-validate.
 */
function foldSql(id: string, folds: { k: number; seed: number }, params: Params): string {
  const seed = params.add(String(folds.seed), '::text');
  return `(('x' || left(md5(${seed} || ':' || ${id}), 8))::bit(32)::bigint % ${params.add(folds.k, '::int')})::int`;
}

/** Each instant's counters as `e_<key>`: the anchor's rows, or the events counted (feature-sql.ts). */
function countersJoin(spec: RowsSpec, w: Instant, slot: number | null, params: Params, who: string): string {
  const team = params.team;
  if (slot !== null) {
    const active = spec.features.includes('active_days_per_week');
    return `LEFT JOIN (${countersAt(team, slot, w.at, active)}) e_${w.key} ON e_${w.key}.user_id = p.id`;
  }
  const events = personEvents({
    team,
    asOf: w.at,
    windowStart: w.window,
    lookbackStart: w.lookback,
    purchasesOnly: !spec.features.some((f) => f.endsWith('_per_week') || f.startsWith('engagement')),
    where: who,
  });
  return `LEFT JOIN (${events}) e_${w.key} ON e_${w.key}.user_id = p.id`;
}

/** Spend in the 30 days from each instant with a target, per person: `sp.spend_<key>`. */
function spendCte(instants: ReadonlyArray<{ key: string; w: Instant }>, params: Params, who: string): string {
  const sums = instants.map(
    ({ key, w }) =>
      `sum(coalesce(nullif(i.value, 'NaN'), pr.price, 0)) FILTER (WHERE i.at >= ${w.at} AND i.at < ${w.end}) AS spend_${key}`,
  );
  const from = instants.map(({ w }) => w.at).join(', ');
  const to = instants.map(({ w }) => w.end).join(', ');
  return `sp AS (
  SELECT i.user_id, ${sums.join(', ')}
    FROM interactions i LEFT JOIN products pr
      ON pr.team_id = i.team_id AND pr.id = i.item_id AND (i.value IS NULL OR i.value = 'NaN')
   WHERE i.team_id = ${params.team} AND i.type = 'purchase' AND i.at >= least(${from}) AND i.at < greatest(${to}) ${who}
   GROUP BY i.user_id)`;
}

/** Whether a feature has one value at every instant (the profile's followers, a number or yes/no attribute). */
function timeless(feature: string, kind: AttributeKind | undefined): boolean {
  if (BUILTIN[feature]) return !(BUILTIN[feature]?.events ?? true) && feature !== 'tenure_days';
  return kind !== 'date';
}

/** The rows' column of feature `j` of `features` at instant `key`: `x_<j>` when timeless, else `x_<key>_<j>`. */
function columnOf(
  features: readonly string[],
  kinds: Readonly<Record<string, AttributeKind>>,
  key: string,
  name: string,
): string {
  const j = features.indexOf(name);
  if (j < 0) throw new Error(`internal: ${name} is not among the rows' features`);
  return timeless(name, kinds[name]) ? `x_${j}` : `x_${key}_${j}`;
}

/**
 * The SELECT of every person's row: id, fold, the timeless features (`x_<j>`), then per instant whether the
 * profile existed (`e_<key>`), the other features (`x_<key>_<j>`) and the target (`y_<key>`).
 */
function rowsSql(spec: RowsSpec, params: Params): string {
  const team = params.team;
  const instants = spec.instants.map((s) => ({ ...s, w: instant(params, s.key, s.at, spec.firstEvent) }));
  const people = spec.people(params);
  const counted = spec.features.some((f) => BUILTIN[f]?.events === true);
  const targets = spec.target === SPEND ? instants.filter((s) => s.withTarget) : [];
  const joins = counted
    ? instants.map(({ w, slot }) => countersJoin(spec, w, slot, params, people.events('user_id')))
    : [];
  if (targets.length > 0) joins.push('LEFT JOIN sp ON sp.user_id = p.id');
  const columns = ['p.id'];
  if (spec.folds) columns.push(`${foldSql('p.id', spec.folds, params)} AS fold`);
  // What depends on the profile alone. The level is flattened (a fence such as OFFSET 0 would keep the statement
  // from running in parallel), so each expression is copied where it is read: the creation in ms is cheap, and a
  // timeless feature is one column, not one per instant.
  const inner = ['p.id', 'p.created_at', 'p.followers', `${exactMs('p.created_at')} AS created_ms`];
  if (spec.target !== SPEND) inner.push('p.attrs');
  spec.features.forEach((f, j) => {
    const kind = spec.kinds[f];
    if (!BUILTIN[f] && kind) inner.push(`${attributeValue(params, f, kind)} AS a_${j}`);
  });
  const first = instants[0]?.w;
  spec.features.forEach((f, j) => {
    if (first && timeless(f, spec.kinds[f])) columns.push(`${featureSql(spec, f, j, first)} AS x_${j}`);
  });
  for (const { key, w, withTarget } of instants) {
    columns.push(`(p.created_at IS NULL OR p.created_at < ${w.at}) AS e_${key}`);
    spec.features.forEach((f, j) => {
      if (!timeless(f, spec.kinds[f])) columns.push(`${featureSql(spec, f, j, w)} AS x_${key}_${j}`);
    });
    if (withTarget) columns.push(`${targetSql(spec.target, params, key)} AS y_${key}`);
  }
  const select = `SELECT ${columns.join(',\n       ')}
  FROM (SELECT ${inner.join(', ')} FROM profiles p WHERE p.team_id = ${team} ${people.profiles}) p
  ${joins.join('\n  ')}`;
  return targets.length > 0
    ? `WITH ${spendCte(targets, params, people.events('i.user_id'))}\n${select}`
    : select;
}

/** Feature `f` (the `j`th) at instant `w`, over the profile `p` and the instant's counters. */
function featureSql(spec: RowsSpec, f: string, j: number, w: Instant): string {
  const kind = spec.kinds[f];
  const sql = BUILTIN[f] ? builtinSql(f, w) : kind ? attributeSql(`p.a_${j}`, kind, w) : 'NULL::float8';
  return `(${sql})::float8`;
}

/** The target's value of a person at instant `key`: spend in the 30 days after it, or a numeric attribute. */
function targetSql(target: string, params: Params, key: string): string {
  if (target === SPEND) return `coalesce(sp.spend_${key}, 0)::float8`;
  const name = params.add(target, '::text');
  return `CASE WHEN jsonb_typeof(p.attrs -> ${name}) = 'number' THEN (p.attrs ->> ${name})::float8 END`;
}

/** A score's value for a row, its features read from `column(name)` (`columnOf`). */
function scoreSql(
  score: LinearScore,
  column: (name: string) => string,
  floor: boolean,
  params: Params,
): string {
  let sql = params.add(score.intercept, '::float8');
  score.names.forEach((name, j) => {
    const median = params.add(score.medians[j] ?? 0, '::float8');
    sql = `(${sql} + ${params.add(score.coefficients[j] ?? 0, '::float8')} * coalesce(${column(name)}, ${median}))`;
  });
  return floor ? `greatest(0::float8, ${sql})` : sql;
}

/** The source of one workspace's prediction rows, over a pool. */
export function pgPredictions(pool: pg.Pool, team: string): PredictionSource {
  return {
    computes,
    extent: async () => {
      const { rows } = await pool.query<{ latest: number | null; signup: number | null }>(
        `SELECT (SELECT ${ms('max(at)')} FROM interactions WHERE team_id = $1) AS latest,
                (SELECT ${ms('max(created_at)')} FROM profiles WHERE team_id = $1) AS signup`,
        [team],
      );
      return { latestInteraction: rows[0]?.latest ?? null, latestSignup: rows[0]?.signup ?? null };
    },
    open: (query) => openRows(pool, team, query),
    forecast: (query) => forecast(pool, team, query),
  };
}

/** Whether some feature reads the person's events (else the counters are not needed). */
function readsEvents(features: readonly string[]): boolean {
  return features.some((f) => BUILTIN[f]?.events === true);
}

/** Brings each instant's anchor to it (each move committed on its own: feature-windows.ts). */
async function anchorAll(
  pool: pg.Pool,
  team: string,
  instants: ReadonlyArray<{ at: number; slot: number | null }>,
) {
  for (const { at, slot } of instants) if (slot !== null) await anchorFeatures(pool, team, slot, at);
}

/** The instants with the slot kept only where the anchor is at the instant in the caller's snapshot. */
async function counted<T extends { at: number; slot: number | null }>(
  db: Queryable,
  team: string,
  instants: readonly T[],
): Promise<T[]> {
  const out: T[] = [];
  for (const s of instants) {
    const kept = s.slot !== null && (await anchoredAt(db, team, s.slot, s.at));
    out.push({ ...s, slot: kept ? s.slot : null });
  }
  return out;
}

async function firstEvent(db: Queryable, team: string): Promise<number | null> {
  const { rows } = await db.query<{ first: number | null }>(
    `SELECT ${ms('min(at)')} AS first FROM interactions WHERE team_id = $1`,
    [team],
  );
  return rows[0]?.first ?? null;
}

/** Kinds of the custom attributes among `names`, checking each is computed here. */
async function kindsOf(db: Queryable, team: string, names: readonly string[]) {
  const kinds = await readAttributeKinds(db, team);
  for (const name of names) {
    if (!computes(name, kinds[name])) throw new Error(`feature "${name}" is not computed in SQL`);
  }
  return kinds;
}

/** A fit's table of rows on its client: the columns' features, and the folds. */
interface RowsTable {
  db: Queryable;
  name: string;
  features: readonly string[];
  folds: number;
  /** SQL for a row's fold: the stored column, or computed from the id where the rows were opened without it. */
  fold: (params: Params) => string;
  /** The column of a feature at a set's (or "now"'s) instant (`columnOf`). */
  column: (key: string, name: string) => string;
}

/** Computes a fit's rows into a table of its own on a client of its own, held until `release`. */
async function openRows(pool: pg.Pool, team: string, query: PredictionRowsQuery): Promise<PredictionRows> {
  const wanted = [{ key: 'train', at: query.asOf, withTarget: true }];
  if (query.earlier) wanted.push({ key: 'earlier', at: query.asOf - HORIZON, withTarget: true });
  if (query.now !== undefined) wanted.push({ key: 'now', at: query.now, withTarget: false });
  // Each instant's anchor by how far it is before "now" (0, 30 or 60 days), brought to it and committed first.
  const slots = [FEATURE_SLOTS.now, FEATURE_SLOTS.train, FEATURE_SLOTS.earlier];
  const roles = wanted.map((s) => ({
    ...s,
    slot: query.now === undefined ? null : (slots[(query.now - s.at) / HORIZON] ?? null),
  }));
  if (readsEvents(query.features)) await anchorAll(pool, team, roles);
  const client = await pool.connect();
  const folds = { k: query.folds, seed: query.seed };
  let open = true;
  const end = async () => {
    if (!open) return;
    open = false;
    try {
      // Nothing to keep: the transaction only read, and its table of rows goes with it.
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  };
  let kinds: Record<string, AttributeKind> = {};
  const table: RowsTable = {
    db: client,
    name: `prediction_rows_${randomBytes(8).toString('hex')}`,
    features: [...query.features],
    folds: query.folds,
    // Stored when the fit cross-validates; the time split's fit needs folds only if it falls back to them.
    fold: (params) => (query.earlier ? foldSql('id', folds, params) : 'fold'),
    column: (key, name) => columnOf(query.features, kinds, key, name),
  };
  let version: number;
  try {
    kinds = await createRows(client, team, query, roles, table.name);
    version = (await readMeta(client, team)).dataVersion;
  } catch (error) {
    await end().catch(() => undefined);
    throw error;
  }
  const spend = query.target === SPEND;
  return {
    version,
    columns: (set, names) => columnStats(table, set, names),
    foldMedians: (set, names) => foldMedians(table, set, names),
    patterns: (set, q) => patternSums(table, set, q),
    errors: (set, checks, forecast) => {
      if (forecast && query.now === undefined)
        throw new Error('internal: the rows were opened without "now"');
      return errorSums(table, set, checks, spend, forecast);
    },
    release: end,
  };
}

/** Opens the transaction and computes the rows into `name` (see `openRows`). */
async function createRows(
  client: Queryable,
  team: string,
  query: PredictionRowsQuery,
  roles: RowsSpec['instants'],
  name: string,
): Promise<Record<string, AttributeKind>> {
  // One version of the data for every step; the table of rows goes with the transaction.
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  await client.query(`SET LOCAL work_mem = '${WORK_MEM}'`);
  // Compiling the wide aggregate's expressions costs about a second, more than it saves here.
  await client.query('SET LOCAL jit = off');
  // The counters' active-days mask is computed per row (countersAt); a cache keyed by each row's day list
  // missed 93% of the time at 2M people (three anchors, 70 MB each) and cost the hashing of every list.
  await client.query('SET LOCAL enable_memoize = off');
  const kinds = await kindsOf(client, team, query.features);
  const params = new Params(team);
  const sql = rowsSql(
    {
      target: query.target,
      features: query.features,
      kinds,
      instants: await counted(client, team, roles),
      people: () => ({ profiles: '', events: () => '' }),
      ...(query.earlier ? {} : { folds: { k: query.folds, seed: query.seed } }),
      firstEvent: await firstEvent(client, team),
    },
    params,
  );
  // An unlogged table of this transaction, not a temporary one: PostgreSQL scans a temporary table in one
  // process only, and the sums below run in parallel over this one. It is never committed (released by
  // ROLLBACK): no other session sees it, and a crash leaves nothing behind.
  await client.query(`CREATE UNLOGGED TABLE ${name} AS ${sql}`, params.values);
  return kinds;
}

/** Which rows of the table belong to a set. */
function setRows(set: PredictionSet): string {
  return `e_${set} AND y_${set} IS NOT NULL`;
}

/** Features that are never missing (counts over the interactions): their medians fill nothing. */
const NEVER_MISSING = new Set(
  Object.entries(BUILTIN)
    .filter(([, b]) => !b.missing)
    .map(([name]) => name),
);

/** Rows, purchasers, means and gaps of a set's columns, and the medians of those that can be missing. */
async function columnStats(t: RowsTable, set: PredictionSet, names: readonly string[]): Promise<ColumnStats> {
  const cols = names.map((name) => t.column(set, name));
  const parts = cols.map((c, j) => {
    const median = NEVER_MISSING.has(names[j] as string)
      ? '0::float8'
      : `coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY ${c}), 0)`;
    return `avg(${c}) AS m${j}, count(*) - count(${c}) AS miss${j}, ${median} AS med${j}`;
  });
  const { rows } = await t.db.query(
    `SELECT count(*) AS n, count(*) FILTER (WHERE y_${set} > 0) AS pos, ${parts.join(', ')}
       FROM ${t.name} WHERE ${setRows(set)}`,
  );
  const r = (rows[0] ?? {}) as Record<string, number | null>;
  const at = (name: string) => Number(r[name] ?? 0);
  return {
    n: at('n'),
    positives: at('pos'),
    means: cols.map((_, j) => at(`m${j}`)),
    missing: cols.map((_, j) => at(`miss${j}`)),
    medians: cols.map((_, j) => at(`med${j}`)),
  };
}

/** Medians of some columns over the set's rows outside each fold: [fold][column]. */
async function foldMedians(t: RowsTable, set: PredictionSet, names: readonly string[]): Promise<number[][]> {
  const { folds } = t;
  if (names.length === 0) return Array.from({ length: folds }, () => []);
  const cols = names.map((name) => t.column(set, name));
  const parts = Array.from({ length: folds }, (_, f) =>
    cols.map(
      (c, j) =>
        `coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY ${c}) FILTER (WHERE fold <> ${f}), 0) AS f${f}_${j}`,
    ),
  ).flat();
  const params = new Params(null);
  // OFFSET 0: each row's fold computed once, not once per median that filters on it.
  const { rows } = await t.db.query(
    `SELECT ${parts.join(', ')}
       FROM (SELECT ${t.fold(params)} AS fold, ${cols.join(', ')} FROM ${t.name} WHERE ${setRows(set)} OFFSET 0) r`,
    params.values,
  );
  const r = (rows[0] ?? {}) as Record<string, number | null>;
  return Array.from({ length: folds }, (_, f) => cols.map((__, j) => Number(r[`f${f}_${j}`] ?? 0)));
}

/**
 * Each fold's pattern sums (or all rows' as one), in one pass: the columns shifted by `shift`, products of
 * observed pairs, and, for columns with gaps (`gaps`), the sums split by which value is missing.
 */
async function patternSums(
  t: RowsTable,
  set: PredictionSet,
  q: { names: readonly string[]; shift: readonly number[]; gaps: readonly boolean[]; byFold: boolean },
): Promise<PatternSums[]> {
  const params = new Params(null);
  const p = q.names.length;
  const c = (j: number) => `c${j}`;
  const shifted = q.names.map(
    (name, j) => `${t.column(set, name)} - ${params.add(q.shift[j] ?? 0, '::float8')} AS c${j}`,
  );
  const aggregates = ['count(*) AS n', 'coalesce(sum(y), 0) AS sy', 'coalesce(sum(y * y), 0) AS syy'];
  for (let a = 0; a < p; a++) {
    aggregates.push(
      `count(${c(a)}) AS cnt${a}`,
      `coalesce(sum(${c(a)}), 0) AS sx${a}`,
      `coalesce(sum(${c(a)} * y), 0) AS sxy${a}`,
      `min(${c(a)}) AS lo${a}`,
      `max(${c(a)}) AS hi${a}`,
    );
    if (q.gaps[a]) aggregates.push(`coalesce(sum(y) FILTER (WHERE ${c(a)} IS NULL), 0) AS sym${a}`);
    for (let b = a; b < p; b++) aggregates.push(`coalesce(sum(${c(a)} * ${c(b)}), 0) AS xx${a}_${b}`);
    for (let b = 0; b < p; b++) {
      if (!q.gaps[b] || b === a) continue;
      aggregates.push(`coalesce(sum(${c(a)}) FILTER (WHERE ${c(b)} IS NULL), 0) AS xm${a}_${b}`);
      if (q.gaps[a] && a < b)
        aggregates.push(`count(*) FILTER (WHERE ${c(a)} IS NULL AND ${c(b)} IS NULL) AS mm${a}_${b}`);
    }
  }
  const { rows } = await t.db.query(
    `SELECT ${q.byFold ? 'fold' : '0'} AS g, ${aggregates.join(', ')}
       FROM (SELECT ${q.byFold ? t.fold(params) : '0'} AS fold, y_${set} AS y, ${shifted.join(', ')}
               FROM ${t.name} WHERE ${setRows(set)}) r
      ${q.byFold ? 'GROUP BY fold' : ''}`,
    params.values,
  );
  const byGroup = new Map(rows.map((r) => [Number(r.g), r as Record<string, number | null>]));
  const groups = q.byFold ? t.folds : 1;
  return Array.from({ length: groups }, (_, g) => patternOf(byGroup.get(g) ?? {}, p, q.gaps));
}

/** One group's row of `patternSums` as PatternSums (absent sums are zero; a column's own gap count too). */
function patternOf(r: Record<string, number | null>, p: number, gaps: readonly boolean[]): PatternSums {
  const at = (name: string) => Number(r[name] ?? 0);
  const column = (prefix: string) => Float64Array.from({ length: p }, (_, j) => at(`${prefix}${j}`));
  const n = at('n');
  const count = column('cnt');
  const sxx = new Float64Array(p * p);
  const sxMissing = new Float64Array(p * p);
  const bothMissing = new Float64Array(p * p);
  for (let a = 0; a < p; a++) {
    for (let b = a; b < p; b++) {
      sxx[a * p + b] = at(`xx${a}_${b}`);
      sxx[b * p + a] = at(`xx${a}_${b}`);
    }
    for (let b = 0; b < p; b++) if (b !== a) sxMissing[a * p + b] = at(`xm${a}_${b}`);
    if (gaps[a]) bothMissing[a * p + a] = n - (count[a] as number);
    for (let b = a + 1; b < p; b++) {
      bothMissing[a * p + b] = at(`mm${a}_${b}`);
      bothMissing[b * p + a] = at(`mm${a}_${b}`);
    }
  }
  const bound = (name: string, none: number) =>
    Float64Array.from({ length: p }, (_, j) =>
      r[`${name}${j}`] === null || r[`${name}${j}`] === undefined ? none : Number(r[`${name}${j}`]),
    );
  return {
    n,
    sy: at('sy'),
    syy: at('syy'),
    count,
    sx: column('sx'),
    sxy: column('sxy'),
    syMissing: Float64Array.from({ length: p }, (_, j) => (gaps[j] ? at(`sym${j}`) : 0)),
    min: bound('lo', Number.POSITIVE_INFINITY),
    max: bound('hi', Number.NEGATIVE_INFINITY),
    sxx,
    sxMissing,
    bothMissing,
  };
}

/**
 * Error sums of a set's rows for each check, each row scored by its fold's score (or the one with `fold` null),
 * and with `forecast`, that score applied to everyone who existed at "now": one pass over the table.
 */
async function errorSums(
  t: RowsTable,
  set: PredictionSet,
  checks: readonly (readonly FoldScore[])[],
  floor: boolean,
  forecast: LinearScore | undefined,
): Promise<{ errors: ErrorSums[]; everyone: ForecastSums | null }> {
  const params = new Params(null);
  const pick = (scores: readonly FoldScore[], value: (s: FoldScore) => string) => {
    const all = scores.find((s) => s.fold === null);
    if (all) return value(all);
    return `CASE ${t.fold(params)} ${scores.map((s) => `WHEN ${s.fold} THEN ${value(s)}`).join(' ')} END`;
  };
  const inSet = `FILTER (WHERE ${setRows(set)})`;
  // The total sum of squares about the set's mean from sums about a typical value c (the first check's baseline,
  // the training mean): Σ(y − ȳ)² = Σ(y − c)² − (Σ(y − c))² / n, without cancellation since c is near ȳ.
  const c = params.add(checks[0]?.[0]?.baseline ?? 0, '::float8');
  const y = `y_${set}`;
  const sums = [
    `count(*) ${inSet} AS n`,
    `coalesce(sum((${y} - ${c}) * (${y} - ${c})) ${inSet}, 0) AS s2`,
    `coalesce(sum(${y} - ${c}) ${inSet}, 0) AS s1`,
  ];
  checks.forEach((scores, k) => {
    const yhat = pick(scores, (s) => scoreSql(s.score, (name) => t.column(set, name), floor, params));
    const guess = pick(scores, (s) => params.add(s.baseline, '::float8'));
    // power(d, 2), not d * d: the score's expression is copied where it is named (the rows are not materialized,
    // so that the pass can run in parallel), and squaring by power names it once (within an ulp of d * d).
    sums.push(
      `coalesce(sum(power(${y} - ${yhat}, 2)) ${inSet}, 0) AS sse${k}`,
      `coalesce(sum(abs(${y} - ${yhat})) ${inSet}, 0) AS sae${k}`,
      `coalesce(sum((${y} - ${guess}) * (${y} - ${guess})) ${inSet}, 0) AS bsse${k}`,
      `coalesce(sum(abs(${y} - ${guess})) ${inSet}, 0) AS bsae${k}`,
    );
  });
  if (forecast)
    sums.push(
      'count(*) FILTER (WHERE e_now) AS fn',
      `sum(${scoreSql(forecast, (name) => t.column('now', name), floor, params)}) FILTER (WHERE e_now) AS ftotal`,
    );
  const { rows } = await t.db.query(`SELECT ${sums.join(',\n       ')} FROM ${t.name}`, params.values);
  const r = (rows[0] ?? {}) as Record<string, number | null>;
  const at = (name: string) => Number(r[name] ?? 0);
  const n = at('n');
  const sst = Math.max(0, at('s2') - (n > 0 ? at('s1') ** 2 / n : 0));
  const errors = checks.map((_, k) => ({
    n,
    sst,
    sse: at(`sse${k}`),
    sae: at(`sae${k}`),
    baseSse: at(`bsse${k}`),
    baseSae: at(`bsae${k}`),
  }));
  return { errors, everyone: forecast ? { n: at('fn'), total: at('ftotal') } : null };
}

/** A forecast: the score applied to its people at the instant, summed (the "now" anchor's counters, or their events). */
async function forecast(pool: pg.Pool, team: string, query: ForecastQuery): Promise<ForecastSums> {
  const kinds = await kindsOf(pool, team, query.score.names);
  const { who } = query;
  const instant = { key: 'now', at: query.asOf, withTarget: false, slot: FEATURE_SLOTS.now as number | null };
  // A few people's events are cheaper to read than moving the anchor; everyone's and a segment's are not.
  if (who.kind !== 'ids' && readsEvents(query.score.names)) await anchorAll(pool, team, [instant]);
  return inTransaction(pool, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) =>
    forecastIn(client, team, query, kinds, await counted(client, team, [instant])),
  );
}

/** The forecast's statement, in the caller's snapshot. */
async function forecastIn(
  db: Queryable,
  team: string,
  query: ForecastQuery,
  kinds: Readonly<Record<string, AttributeKind>>,
  instants: RowsSpec['instants'],
): Promise<ForecastSums> {
  const params = new Params(team);
  const { who } = query;
  const people = (p: Params): ReturnType<RowsSpec['people']> => {
    if (who.kind === 'ids') {
      const ids = p.add(who.ids, '::text[]');
      return { profiles: `AND p.id = ANY(${ids})`, events: (u) => `AND ${u} = ANY(${ids})` };
    }
    if (who.kind === 'segment') {
      const members = `(SELECT user_id FROM segment_assignments WHERE team_id = ${p.team} AND run_id = ${p.add(who.runId)} AND label = ${p.add(who.label, '::int')})`;
      return { profiles: `AND p.id IN ${members}`, events: (u) => `AND ${u} IN ${members}` };
    }
    return { profiles: '', events: () => '' };
  };
  const rows = rowsSql(
    {
      target: query.target,
      features: query.score.names,
      kinds,
      instants,
      people,
      firstEvent: await firstEvent(db, team),
    },
    params,
  );
  const column = (name: string) => columnOf(query.score.names, kinds, 'now', name);
  const value = scoreSql(query.score, column, query.target === SPEND, params);
  // Everyone means everyone who existed then; named people and a segment's are scored whenever they signed up.
  const where = who.kind === 'all' ? 'WHERE e_now' : '';
  const scored = `WITH r AS (${rows}) SELECT id, ${value} AS v FROM r ${where}`;
  if (who.kind !== 'ids') {
    // Summed in the database: the app never holds a row per person.
    const { rows: out } = await db.query<{ n: number; total: number | null }>(
      `SELECT count(*)::int AS n, sum(v) AS total FROM (${scored}) s`,
      params.values,
    );
    return { n: out[0]?.n ?? 0, total: out[0]?.total ?? 0 };
  }
  const { rows: out } = await db.query<{ id: string; v: number }>(scored, params.values);
  let total = 0;
  for (const row of out) total += row.v;
  const byId = new Map(out.map((row) => [row.id, row.v]));
  return { n: out.length, total, values: who.ids.map((id) => byId.get(id) ?? Number.NaN) };
}
