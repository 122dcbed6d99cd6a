/**
 * Prediction rows in SQL (the seam's `audience.predictions`): each person's features and target computed by the
 * database with the engine's definitions (src/engine/features.ts, predict.ts `buildTrainingSet`), so the app
 * fits `/audience predict` on every row without reading one. A fit opens the rows once (one pass over the
 * interactions into a temporary table, in one repeatable-read transaction), then asks for sums: the
 * cross-products of a training set (all rows, or all but one cross-validation fold), and the error sums of fitted
 * scores; the app solves them (src/engine/predict-sums.ts) between the steps. A forecast applies a fitted score to
 * everyone, a segment or some people at "now", summed in SQL.
 *
 * Definitions, as the engine's: rows are the profiles that existed at the instant (created before it, or
 * unknown); purchases before it count for frequency and monetary over the 365 days before, recency (capped at
 * 365 days, also for never) over any time; the engagement window is the 56 days before, rates divide by the
 * weeks (months for the purchase lookback) in which the profile existed and the data covers, at least one week;
 * the target is spend in the 30 days from the instant (an amount, else the product's list price, else 0) or a
 * numeric attribute (rows without one left out); missing values are filled with the column's median.
 * A person's cross-validation fold is md5("<seed>:<id>")'s first 32 bits modulo the folds (domain/folds.ts).
 */
import type pg from 'pg';
import type { ErrorSums, FoldScore, LinearScore, TrainingSums } from '../../domain/cross-products.ts';
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
import { readAttributeKinds, readMeta } from './reads.ts';
import { ms, ts } from './rows.ts';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const HORIZON = 30 * DAY;
const LOOKBACK = 365 * DAY;
const WINDOW = 56 * DAY;
const RECENCY_CAP_DAYS = 365;
const SPEND = 'spend_next_30d';
/** Memory for the per-person aggregation and the medians' sorts (per query, one fit at a time per client). */
const WORK_MEM = '128MB';

/** Per-person counts over the interactions, each feature reading some of them. */
type Counter =
  | 'freq'
  | 'mon'
  | 'last'
  | 'eng'
  | 'views'
  | 'likes'
  | 'shares'
  | 'comments'
  | 'clicks'
  | 'days';

const ENGAGEMENT = `('like', 'share', 'comment', 'click')`;

/** The aggregate of each counter over a person's interactions, for an instant whose SQL names are in `w`. */
function counterSql(c: Counter, w: Instant): string {
  // Functions, not strings: a parameter is added only when the statement uses it.
  const inWindow = () => `i.at >= ${w.window} AND i.at < ${w.at}`;
  const inLookback = () => `i.type = 'purchase' AND i.at >= ${w.lookback} AND i.at < ${w.at}`;
  const typed = (type: string) => `count(*) FILTER (WHERE i.type = '${type}' AND ${inWindow()})`;
  switch (c) {
    case 'freq':
      return `count(*) FILTER (WHERE ${inLookback()})`;
    case 'mon':
      return `sum(i.value) FILTER (WHERE ${inLookback()} AND i.value <> 'NaN')`;
    case 'last':
      return `max(i.at) FILTER (WHERE i.type = 'purchase' AND i.at < ${w.at})`;
    case 'eng':
      return `count(*) FILTER (WHERE i.type IN ${ENGAGEMENT} AND ${inWindow()})`;
    case 'views':
      return typed('view');
    case 'likes':
      return typed('like');
    case 'shares':
      return typed('share');
    case 'comments':
      return typed('comment');
    case 'clicks':
      return typed('click');
    case 'days':
      throw new Error('internal: active days are counted apart');
  }
}

/** A built-in feature's counters and its value over the counters `c.<counter>`, profile `p` and instant `w`. */
const BUILTIN: Record<string, { counters: Counter[]; sql: (w: Instant) => string }> = {
  frequency: { counters: ['freq'], sql: (w) => `coalesce(${w.c('freq')}, 0)::float8` },
  monetary: { counters: ['mon'], sql: (w) => `coalesce(${w.c('mon')}, 0)::float8` },
  recency_days: {
    counters: ['last'],
    sql: (w) => `CASE WHEN ${w.c('last')} IS NULL THEN ${RECENCY_CAP_DAYS}::float8
      ELSE least(${RECENCY_CAP_DAYS}::float8, (${w.ms} - ${ms(w.c('last'))}) / ${DAY}) END`,
  },
  engagement: { counters: ['eng'], sql: (w) => perWeek(w, 'eng') },
  likes_per_week: { counters: ['likes'], sql: (w) => perWeek(w, 'likes') },
  shares_per_week: { counters: ['shares'], sql: (w) => perWeek(w, 'shares') },
  comments_per_week: { counters: ['comments'], sql: (w) => perWeek(w, 'comments') },
  clicks_per_week: { counters: ['clicks'], sql: (w) => perWeek(w, 'clicks') },
  views_per_week: { counters: ['views'], sql: (w) => perWeek(w, 'views') },
  active_days_per_week: { counters: ['days'], sql: (w) => perWeek(w, 'days') },
  engagement_rate: {
    counters: ['eng', 'views'],
    sql: (w) => `CASE WHEN ${w.c('views')} > 0 THEN ${w.c('eng')}::float8 / ${w.c('views')} END`,
  },
  purchases_per_month: { counters: ['freq'], sql: (w) => perMonth(w, 'freq') },
  spend_per_month: { counters: ['mon'], sql: (w) => perMonth(w, 'mon') },
  avg_order_value: {
    counters: ['freq', 'mon'],
    sql: (w) => `CASE WHEN ${w.c('freq')} > 0 THEN coalesce(${w.c('mon')}, 0)::float8 / ${w.c('freq')} END`,
  },
  followers: { counters: [], sql: () => 'p.followers::float8' },
  log_followers: {
    counters: [],
    sql: () => 'CASE WHEN p.followers >= 0 THEN log(1 + p.followers::float8) END',
  },
  tenure_days: { counters: [], sql: (w) => `(${w.ms} - ${ms('p.created_at')}) / ${DAY}` },
};

/** Where the profile's history starts for the rates: its sign-up, but not before the data's first event. */
function knownFrom(w: Instant): string {
  return `greatest(${ms('p.created_at')}, ${w.history})`;
}

function perWeek(w: Instant, c: Counter): string {
  return `coalesce(${w.c(c)}, 0)::float8 / greatest(1, (${w.ms} - greatest(${w.ms} - ${WINDOW}, ${knownFrom(w)})) / ${WEEK})`;
}

function perMonth(w: Instant, c: Counter): string {
  return `coalesce(${w.c(c)}, 0)::float8 / greatest(${WEEK / MONTH}, (${w.ms} - greatest(${w.ms} - ${LOOKBACK}, ${knownFrom(w)})) / ${MONTH})`;
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
  /** `team`: the workspace as $1, or null for a statement that reads only the temporary table. */
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
  c: (counter: Counter) => string;
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
    // Active days come from their own aggregate (d0), the other counters from the events' (c0).
    c: (counter) => (counter === 'days' ? `d0.days_${key}` : `c0.${counter}_${key}`),
  };
}

/** An attribute feature's value at instant `w`. */
function attributeSql(params: Params, name: string, kind: AttributeKind, w: Instant): string {
  const key = params.add(name, '::text');
  const isNumber = `jsonb_typeof(p.attrs -> ${key}) = 'number'`;
  if (kind === 'boolean')
    return `CASE WHEN jsonb_typeof(p.attrs -> ${key}) = 'boolean' THEN CASE WHEN (p.attrs -> ${key})::boolean THEN 1 ELSE 0 END END::float8`;
  if (kind === 'date')
    return `CASE WHEN ${isNumber} AND (p.attrs ->> ${key})::float8 <= ${w.ms} THEN (${w.ms} - (p.attrs ->> ${key})::float8) / ${DAY} END`;
  return `CASE WHEN ${isNumber} THEN (p.attrs ->> ${key})::float8 END`;
}

/** What a person-rows statement computes: features and target at some instants, for some profiles. */
interface RowsSpec {
  target: string;
  features: readonly string[];
  kinds: Readonly<Record<string, AttributeKind>>;
  /** The instants, by key (column suffix). */
  instants: ReadonlyArray<{ key: string; at: number; withTarget: boolean }>;
  /** Which profiles: a SQL condition on `p` (and the interactions' `i.user_id` to match). */
  people: (params: Params) => { profiles: string; events: string };
  folds?: { k: number; seed: number };
  firstEvent: number | null;
}

/**
 * The SELECT of every person's row: id, fold, then per instant whether the profile existed (`e_<key>`), the
 * features (`x_<key>_<j>`) and the target (`y_<key>`).
 */
function rowsSql(spec: RowsSpec, params: Params): string {
  const team = params.team;
  const instants = spec.instants.map((s) => ({ ...s, w: instant(params, s.key, s.at, spec.firstEvent) }));
  const counters = new Set<Counter>();
  for (const f of spec.features) for (const c of BUILTIN[f]?.counters ?? []) counters.add(c);
  const spend = spec.target === SPEND;
  const from = Math.min(...spec.instants.map((s) => s.at)) - LOOKBACK;
  const to = Math.max(...spec.instants.map((s) => s.at + (spend && s.withTarget ? HORIZON : 0)));
  const people = spec.people(params);
  const scan = `i.team_id = ${team} AND i.at >= ${params.add(ts(from), '::timestamptz')} AND i.at < ${params.add(ts(to), '::timestamptz')} ${people.events}`;
  const aggregates: string[] = [];
  for (const { key, w, withTarget } of instants) {
    for (const c of counters) if (c !== 'days') aggregates.push(`${counterSql(c, w)} AS ${c}_${key}`);
    if (spend && withTarget) {
      aggregates.push(
        `sum(coalesce(nullif(i.value, 'NaN'), pr.price, 0)) FILTER (WHERE i.type = 'purchase' AND i.at >= ${w.at} AND i.at < ${w.end}) AS spend_${key}`,
      );
    }
  }
  const ctes: string[] = [];
  if (aggregates.length > 0) {
    ctes.push(`ev AS (
  SELECT i.user_id, ${aggregates.join(',\n         ')}
    FROM interactions i LEFT JOIN products pr
      ON pr.team_id = i.team_id AND pr.id = i.item_id AND (i.value IS NULL OR i.value = 'NaN')
   WHERE ${scan} GROUP BY i.user_id)`);
  }
  if (counters.has('days')) ctes.push(daysCte(instants, params, team, people.events));
  const columns = ['p.id'];
  if (spec.folds)
    columns.push(
      `(('x' || left(md5(${params.add(String(spec.folds.seed), '::text')} || ':' || p.id), 8))::bit(32)::bigint % ${params.add(spec.folds.k, '::int')})::int AS fold`,
    );
  for (const { key, w, withTarget } of instants) {
    columns.push(`(p.created_at IS NULL OR p.created_at < ${w.at}) AS e_${key}`);
    spec.features.forEach((f, j) => {
      const builtin = BUILTIN[f];
      const kind = spec.kinds[f];
      const sql = builtin ? builtin.sql(w) : kind ? attributeSql(params, f, kind, w) : 'NULL::float8';
      columns.push(`(${sql})::float8 AS x_${key}_${j}`);
    });
    if (withTarget) columns.push(`${targetSql(spec.target, params, key)} AS y_${key}`);
  }
  const joins = [
    aggregates.length > 0 ? 'LEFT JOIN ev c0 ON c0.user_id = p.id' : '',
    counters.has('days') ? 'LEFT JOIN days d0 ON d0.user_id = p.id' : '',
  ].join(' ');
  const select = `SELECT ${columns.join(',\n       ')}
  FROM profiles p ${joins}
 WHERE p.team_id = ${team} ${people.profiles}`;
  return ctes.length > 0 ? `WITH ${ctes.join(',\n')}\n${select}` : select;
}

/** Active days per instant: distinct days with any interaction in its window, on one day grid for all. */
function daysCte(
  instants: ReadonlyArray<{ key: string; at: number; w: Instant }>,
  params: Params,
  team: string,
  events: string,
): string {
  const base = Math.min(...instants.map((s) => s.at)) - WINDOW;
  const to = Math.max(...instants.map((s) => s.at));
  for (const s of instants) {
    if ((s.at - base) % DAY !== 0) throw new Error('internal: instants must lie whole days apart');
  }
  const baseMs = params.add(base, '::float8');
  const counts = instants.map((s) => {
    const hi = (s.at - base) / DAY;
    return `count(*) FILTER (WHERE d >= ${hi - WINDOW / DAY} AND d < ${hi}) AS days_${s.key}`;
  });
  return `days AS (
  SELECT user_id, ${counts.join(', ')}
    FROM (SELECT DISTINCT i.user_id, floor((${ms('i.at')} - ${baseMs}) / ${DAY}) AS d
            FROM interactions i
           WHERE i.team_id = ${team} AND i.at >= ${params.add(ts(base), '::timestamptz')}
             AND i.at < ${params.add(ts(to), '::timestamptz')} ${events}) x
   GROUP BY user_id)`;
}

/** The target's value of a person at instant `key`: spend in the 30 days after it, or a numeric attribute. */
function targetSql(target: string, params: Params, key: string): string {
  if (target === SPEND) return `coalesce(c0.spend_${key}, 0)::float8`;
  const name = params.add(target, '::text');
  return `CASE WHEN jsonb_typeof(p.attrs -> ${name}) = 'number' THEN (p.attrs ->> ${name})::float8 END`;
}

/** A score's value for the row's features of instant `key` (columns `x_<key>_<j>` of `features`). */
function scoreSql(
  score: LinearScore,
  features: readonly string[],
  key: string,
  floor: boolean,
  params: Params,
): string {
  let sql = params.add(score.intercept, '::float8');
  score.names.forEach((name, j) => {
    const column = features.indexOf(name);
    if (column < 0) throw new Error(`internal: ${name} is not among the rows' features`);
    const median = params.add(score.medians[j] ?? 0, '::float8');
    sql = `(${sql} + ${params.add(score.coefficients[j] ?? 0, '::float8')} * coalesce(x_${key}_${column}, ${median}))`;
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

/** Computes a fit's rows into a temporary table on a client of its own, held until `release`. */
async function openRows(pool: pg.Pool, team: string, query: PredictionRowsQuery): Promise<PredictionRows> {
  const client = await pool.connect();
  let open = true;
  let version = 0;
  const end = async (ok: boolean) => {
    if (!open) return;
    open = false;
    try {
      await client.query(ok ? 'COMMIT' : 'ROLLBACK');
    } finally {
      client.release();
    }
  };
  try {
    // One version of the data for every step; the temporary table goes with the transaction.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await client.query(`SET LOCAL work_mem = '${WORK_MEM}'`);
    const kinds = await kindsOf(client, team, query.features);
    const instants = [{ key: 'train', at: query.asOf, withTarget: true }];
    if (query.earlier) instants.push({ key: 'earlier', at: query.asOf - HORIZON, withTarget: true });
    const params = new Params(team);
    const sql = rowsSql(
      {
        target: query.target,
        features: query.features,
        kinds,
        instants,
        people: () => ({ profiles: '', events: '' }),
        folds: { k: query.folds, seed: query.seed },
        firstEvent: await firstEvent(client, team),
      },
      params,
    );
    await client.query(`CREATE TEMP TABLE prediction_rows ON COMMIT DROP AS ${sql}`, params.values);
    version = (await readMeta(client, team)).dataVersion;
  } catch (error) {
    await end(false).catch(() => undefined);
    throw error;
  }
  const features = [...query.features];
  const spend = query.target === SPEND;
  return {
    version,
    sums: (set, options = {}) => {
      const names = options.names ?? features;
      return setSums(client, set, features, names, options.withoutFold, options.medianOf ?? names);
    },
    errors: (set, scores) => errorSums(client, set, features, scores, spend),
    release: () => end(true),
  };
}

/** Which rows of the temporary table belong to a set (and, for a fold's fit, are outside that fold). */
function setRows(set: PredictionSet, withoutFold: number | undefined, params: Params): string {
  const fold = withoutFold === undefined ? '' : ` AND fold <> ${params.add(withoutFold, '::int')}`;
  return `e_${set} AND y_${set} IS NOT NULL${fold}`;
}

/** The training sums of a set's rows (see TrainingSums); medians only of `medianOf` (others 0). */
async function setSums(
  db: Queryable,
  set: PredictionSet,
  features: readonly string[],
  names: readonly string[],
  withoutFold: number | undefined,
  medianOf: readonly string[],
): Promise<TrainingSums> {
  // The temporary table is this session's own: no workspace to filter on.
  const params = new Params(null);
  const cols = names.map((name) => `x_${set}_${features.indexOf(name)}`);
  const stat = cols.map((_, j) => {
    const median = medianOf.includes(names[j] as string)
      ? `coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY r${j}), 0)`
      : '0::float8';
    return `${median} AS med${j}, count(*) - count(r${j}) AS miss${j}, min(r${j}) AS lo${j}, max(r${j}) AS hi${j}`;
  });
  const pairs: string[] = [];
  for (let j = 0; j < cols.length; j++)
    for (let k = j; k < cols.length; k++) pairs.push(`sum((f${j} - m${j}) * (f${k} - m${k})) AS s_${j}_${k}`);
  const sql = `
WITH base AS MATERIALIZED (
  SELECT ${cols.map((c, j) => `${c} AS r${j}`).join(', ')}, y_${set} AS y FROM prediction_rows
   WHERE ${setRows(set, withoutFold, params)}),
stat AS (SELECT count(*) AS n, count(*) FILTER (WHERE y > 0) AS pos, ${stat.join(', ')} FROM base),
filled AS (SELECT ${cols.map((_, j) => `coalesce(r${j}, med${j}) AS f${j}`).join(', ')}, y FROM base, stat),
mean AS (SELECT avg(y) AS my, ${cols.map((_, j) => `avg(f${j}) AS m${j}`).join(', ')} FROM filled),
sums AS (
  SELECT ${[...pairs, ...cols.map((_, j) => `sum((f${j} - m${j}) * (y - my)) AS sy${j}`)].join(', ')},
         sum((y - my) * (y - my)) AS syy
    FROM filled, mean)
SELECT * FROM stat, mean, sums`;
  const { rows } = await db.query(sql, params.values);
  const r = (rows[0] ?? {}) as Record<string, number | null>;
  const at = (name: string) => Number(r[name] ?? 0);
  const orNaN = (name: string) => (r[name] === null || r[name] === undefined ? Number.NaN : Number(r[name]));
  return {
    n: at('n'),
    names: [...names],
    means: cols.map((_, j) => at(`m${j}`)),
    yMean: at('my'),
    medians: cols.map((_, j) => at(`med${j}`)),
    imputed: cols.map((_, j) => at(`miss${j}`)),
    sxx: cols.map((_, j) => cols.map((__, k) => at(j <= k ? `s_${j}_${k}` : `s_${k}_${j}`))),
    sxy: cols.map((_, j) => at(`sy${j}`)),
    syy: at('syy'),
    positives: at('pos'),
    mins: cols.map((_, j) => orNaN(`lo${j}`)),
    maxs: cols.map((_, j) => orNaN(`hi${j}`)),
  };
}

/** Error sums of a set's rows scored by their folds' scores, and of each fold's average guess. */
async function errorSums(
  db: Queryable,
  set: PredictionSet,
  features: readonly string[],
  scores: readonly FoldScore[],
  floor: boolean,
): Promise<ErrorSums> {
  const params = new Params(null);
  const pick = (value: (s: FoldScore) => string) => {
    const all = scores.find((s) => s.fold === null);
    if (all) return value(all);
    return `CASE fold ${scores.map((s) => `WHEN ${s.fold} THEN ${value(s)}`).join(' ')} END`;
  };
  const predicted = pick((s) => scoreSql(s.score, features, set, floor, params));
  const guess = pick((s) => params.add(s.baseline, '::float8'));
  const sql = `
WITH scored AS MATERIALIZED (
  SELECT y_${set} AS y, ${predicted} AS yhat, ${guess} AS guess FROM prediction_rows
   WHERE ${setRows(set, undefined, params)}),
m AS (SELECT avg(y) AS my FROM scored)
SELECT count(*) AS n, coalesce(sum((y - my) * (y - my)), 0) AS sst,
       coalesce(sum((y - yhat) * (y - yhat)), 0) AS sse, coalesce(sum(abs(y - yhat)), 0) AS sae,
       coalesce(sum((y - guess) * (y - guess)), 0) AS base_sse, coalesce(sum(abs(y - guess)), 0) AS base_sae
  FROM scored, m`;
  const { rows } = await db.query(sql, params.values);
  const r = (rows[0] ?? {}) as Record<string, number>;
  return {
    n: Number(r.n ?? 0),
    sst: Number(r.sst ?? 0),
    sse: Number(r.sse ?? 0),
    sae: Number(r.sae ?? 0),
    baseSse: Number(r.base_sse ?? 0),
    baseSae: Number(r.base_sae ?? 0),
  };
}

/** A forecast: the score applied to its people at the instant, summed (one pass over their interactions). */
async function forecast(pool: pg.Pool, team: string, query: ForecastQuery): Promise<ForecastSums> {
  const kinds = await kindsOf(pool, team, query.score.names);
  const params = new Params(team);
  const { who } = query;
  const people = (p: Params): { profiles: string; events: string } => {
    if (who.kind === 'ids') {
      const ids = p.add(who.ids, '::text[]');
      return { profiles: `AND p.id = ANY(${ids})`, events: `AND i.user_id = ANY(${ids})` };
    }
    if (who.kind === 'segment') {
      const members = `(SELECT user_id FROM segment_assignments WHERE team_id = ${p.team} AND run_id = ${p.add(who.runId)} AND label = ${p.add(who.label, '::int')})`;
      return { profiles: `AND p.id IN ${members}`, events: `AND i.user_id IN ${members}` };
    }
    return { profiles: '', events: '' };
  };
  const rows = rowsSql(
    {
      target: query.target,
      features: query.score.names,
      kinds,
      instants: [{ key: 'now', at: query.asOf, withTarget: false }],
      people,
      firstEvent: await firstEvent(pool, team),
    },
    params,
  );
  const value = scoreSql(query.score, query.score.names, 'now', query.target === SPEND, params);
  // Everyone means everyone who existed then; named people and a segment's are scored whenever they signed up.
  const where = who.kind === 'all' ? 'WHERE e_now' : '';
  const scored = `WITH r AS (${rows}) SELECT id, ${value} AS v FROM r ${where}`;
  if (who.kind !== 'ids') {
    // Summed in the database: the app never holds a row per person.
    const { rows: out } = await pool.query<{ n: number; total: number | null }>(
      `SELECT count(*)::int AS n, sum(v) AS total FROM (${scored}) s`,
      params.values,
    );
    return { n: out[0]?.n ?? 0, total: out[0]?.total ?? 0 };
  }
  const { rows: out } = await pool.query<{ id: string; v: number }>(scored, params.values);
  let total = 0;
  for (const row of out) total += row.v;
  const byId = new Map(out.map((row) => [row.id, row.v]));
  return { n: out.length, total, values: who.ids.map((id) => byId.get(id) ?? Number.NaN) };
}
