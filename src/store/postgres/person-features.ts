/**
 * Segmentation at scale (the seam's `audience.personFeatures`, issue #14): everyone's features computed in SQL
 * in one pass over the engagement window's events and the year's purchases, grouped by person (feature-sql.ts:
 * the engine's definitions), kept in a temporary table for one segmentation, so the app reads a sample to fit on and per-centre
 * sums, never the audience. Everyone is placed at the nearest centre in SQL with the engine's arithmetic
 * (missing values filled with the column median, centred, divided by the sd, squared distances summed feature
 * by feature, a tie to the lower index). That pass also keeps everyone's centre (`segment_placements`, below), so
 * recording the run copies them with one INSERT … SELECT instead of computing everyone's features again.
 */
import type pg from 'pg';
import type {
  AssignedSummary,
  CentreAssignment,
  PersonFeatureColumn,
  PersonFeatureQuery,
  PersonFeatureRows,
  PersonFeatureScan,
  SegmentPlacement,
} from '../../domain/segment-scan.ts';
import type { Queryable } from './claims.ts';
import { inTransaction } from './connect.ts';
import {
  describedAs,
  type FeatureRefs,
  featureExpression,
  LOOKBACK_DAYS,
  personEvents,
  WINDOW_DAYS,
} from './feature-sql.ts';
import { anchoredAt, anchorFeatures, countersAt, FEATURE_SLOTS } from './feature-windows.ts';
import { ms, ts } from './rows.ts';

const DAY = 86_400_000;

/** Memory for the per-person aggregation and the medians' sorts (per query, one segmentation at a time). */
const WORK_MEM = '256MB';

/**
 * How long a kept placement waits to be recorded before the next scan or recording of the workspace drops it (on
 * the database's clock: the app reads no clock of its own here).
 */
const KEPT_FOR = `interval '1 hour'`;

/**
 * A placement's key, made by the database: its creation time first (ISO, so stale ones sort before a cutoff), then
 * a random UUID so two scans in the same millisecond differ.
 */
const placementKeyAt = (at: string) => `to_char((${at}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * Migration 21: everyone's nearest centre from a segmentation's pass, kept until the run is recorded (the
 * summing pass writes them; recording copies them into `segment_assignments` and drops them). Unlogged: a cache
 * that a crash may empty (recording then places everyone again), written without WAL. `ord` is the person's
 * position in stored order among the run's people, `label` the fit centre (segments are numbered on recording).
 * A BRIN index: one placement's rows are written together, and the index costs next to nothing to keep.
 */
export const SEGMENT_PLACEMENTS_SQL = `
CREATE UNLOGGED TABLE segment_placements (
  team_id   text NOT NULL,
  placement text NOT NULL,
  ord       integer NOT NULL,
  user_id   text NOT NULL,
  label     integer NOT NULL
);
CREATE INDEX segment_placements_by_key ON segment_placements USING brin (team_id, placement);
`;

/** A scan that holds a pool client until released. */
export interface HeldScan extends PersonFeatureScan {
  release(): Promise<void>;
}

/** Whether every feature has an SQL definition. */
export function sqlSegmentFeatures(features: readonly string[]): boolean {
  const refs: FeatureRefs = {
    asOfMs: '0',
    windowStartMs: '0',
    lookbackStartMs: '0',
    knownFromMs: '0',
    profile: 'p',
    events: 'e',
  };
  return features.length > 0 && features.every((f) => featureExpression(f, refs) !== undefined);
}

/**
 * The SELECT of everyone's features (columns seq, id, x0 … x(d-1)) at `query.asOf`: profiles that existed then
 * (created before it, or of unknown age). Parameters: $1 the workspace, $2 as of, $3 the window's start, $4 the
 * lookback's start (timestamptz), and the same as epoch ms in $5, $6, $7; $8 the data's first event (ms).
 * `counted`: the "now" anchor's counters are at as of (feature-windows.ts), so they are read instead of the events.
 */
function featuresSelect(features: readonly string[], counted: boolean): string {
  // The profile's columns and its counters side by side in `b`; when the profile's history starts (numeric
  // `extract`, 0.4 µs a call) is computed once there, not once per rate.
  const refs: FeatureRefs = {
    asOfMs: '$5::float8',
    windowStartMs: '$6::float8',
    lookbackStartMs: '$7::float8',
    knownFromMs: 'b.known_from',
    profile: 'b',
    events: 'b',
  };
  const columns = features
    .map((f, j) => `${featureExpression(f, refs) as string} AS x${j}`)
    .join(',\n       ');
  const active = features.includes('active_days_per_week');
  const events = counted
    ? `${countersAt('$1', FEATURE_SLOTS.now, '$2::timestamptz', active)}
          AND $3::timestamptz IS NOT NULL AND $4::timestamptz IS NOT NULL`
    : personEvents({
        team: '$1',
        asOf: '$2::timestamptz',
        lookbackStart: '$4::timestamptz',
        windowStart: '$3::timestamptz',
        purchasesOnly: false,
      });
  // OFFSET 0 keeps `b` a level of its own: flattened, the planner would copy known_from into each rate.
  return `SELECT b.seq, b.id, ${columns}
  FROM (SELECT p.seq, p.id, p.followers, p.created_at,
               greatest(coalesce(${ms('p.created_at')}, $8::float8), $8::float8) AS known_from, e.*
          FROM profiles p LEFT JOIN (${events}) e ON e.user_id = p.id
         WHERE p.team_id = $1 AND (p.created_at IS NULL OR p.created_at < $2::timestamptz)
           -- Typed here, so every feature set binds the same parameters, whichever of them its expressions read.
           AND $5::float8 IS NOT NULL AND $6::float8 IS NOT NULL AND $7::float8 IS NOT NULL AND $8::float8 IS NOT NULL
        OFFSET 0) b`;
}

/** The parameters of `featuresSelect` for `asOf` (reads the data's first event before it). */
async function featureParams(db: Queryable, team: string, asOf: number): Promise<unknown[]> {
  const { rows } = await db.query<{ first: number | null }>(
    `SELECT ${ms('min(at)')} AS first FROM interactions WHERE team_id = $1 AND at < $2::timestamptz`,
    [team, ts(asOf)],
  );
  const windowStart = asOf - WINDOW_DAYS * DAY;
  const lookbackStart = asOf - LOOKBACK_DAYS * DAY;
  // Without an event before asOf the data "begins" at asOf (the engine's rule).
  const first = rows[0]?.first ?? asOf;
  return [team, ts(asOf), ts(windowStart), ts(lookbackStart), asOf, windowStart, lookbackStart, first];
}

/** A float8 literal of a number we computed (never text from outside). */
function lit(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`internal: non-finite segmentation parameter ${x}`);
  return `${String(x)}::float8`;
}

/** Scaled clustered feature j, `x` its raw column (as `scaledValue` in src/engine/features.ts). */
function scaled(a: CentreAssignment, j: number, x: string): string {
  const filled = `coalesce(${x}, ${lit(a.medians[j] as number)})`;
  const v = a.log ? `(sign(${filled}) * ln(1 + abs(${filled})))` : filled;
  return `((${v} - ${lit(a.means[j] as number)}) / ${lit(a.sds[j] as number)})`;
}

/**
 * `extra` columns of `rows` with the scaled clustered features s0 …, their squared distances to the centres
 * d0 …, and `label`: the nearest centre (a tie goes to the lower index, as the engine's strict comparison does).
 */
function placed(a: CentreAssignment, rows: string, extra: string, columnOf: (j: number) => string): string {
  const d = a.features.length;
  const k = a.centres.length;
  const s = Array.from({ length: d }, (_, j) => `${scaled(a, j, columnOf(j))} AS s${j}`).join(', ');
  const dist = a.centres
    .map((centre, c) => {
      const terms = centre.map((v, j) => `(s${j} - ${lit(v)}) * (s${j} - ${lit(v)})`);
      return `${terms.join(' + ')} AS d${c}`;
    })
    .join(', ');
  const whens = Array.from({ length: k - 1 }, (_, c) => {
    const later = Array.from({ length: k - c - 1 }, (__, i) => `d${c} <= d${c + 1 + i}`).join(' AND ');
    return `WHEN ${later} THEN ${c}`;
  });
  const label = k === 1 ? '0' : `CASE ${whens.join(' ')} ELSE ${k - 1} END`;
  // OFFSET 0 keeps each level a subquery of its own: flattened, the planner would copy every distance into each
  // comparison of the CASE (k² distances a row instead of k), and JIT-compile the copies at great length.
  return `SELECT *, ${label} AS label FROM (
    SELECT *, ${dist} FROM (SELECT ${extra} ${s} FROM ${rows} OFFSET 0) scaled OFFSET 0) distances`;
}

/** Opens a feature scan on its own client, or null when a feature has no SQL definition. */
export async function openPersonFeatures(
  db: Queryable,
  team: string,
  query: PersonFeatureQuery,
): Promise<HeldScan | null> {
  if (!sqlSegmentFeatures(query.features)) return null;
  const pool = 'connect' in db ? (db as pg.Pool) : null;
  // The counters brought to as of first, committed, so the snapshot below sees them.
  if (pool) await anchorFeatures(pool, team, FEATURE_SLOTS.now, query.asOf);
  const client = pool ? await pool.connect() : db;
  const table = `person_features_${Math.random().toString(36).slice(2, 10)}`;
  try {
    // One snapshot for every read of this segmentation (writing only its own temporary table).
    if (pool) await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await settle(client);
    const params = await featureParams(client, team, query.asOf);
    // Another move may have come between: then the events are read, as without counters.
    const counted = await anchoredAt(client, team, FEATURE_SLOTS.now, query.asOf);
    // In stored order: a temporary table is read by one process, start to end, so every sum below adds in
    // this order and the same data gives the same figures to the last bit.
    // `ord`: the position in stored order, as the run's assignments number people.
    await client.query(
      `CREATE TEMPORARY TABLE ${table} AS SELECT row_number() OVER (ORDER BY seq)::int - 1 AS ord, f.*
         FROM (${featuresSelect(query.features, counted)}) f ORDER BY seq`,
      params,
    );
    const columns = await columnStats(client, table, query.features);
    return scanOf(client, team, table, query.features, columns, async () => {
      await client.query(`DROP TABLE IF EXISTS ${table}`);
      if (pool) {
        await client.query('COMMIT');
        (client as pg.PoolClient).release();
      }
    });
  } catch (error) {
    if (pool) {
      await client.query('ROLLBACK').catch(() => undefined);
      (client as pg.PoolClient).release();
    }
    throw error;
  }
}

/** Count, missing values, median, range and yes/no-ness of every column. */
async function columnStats(
  db: Queryable,
  table: string,
  features: readonly string[],
): Promise<{ n: number; columns: PersonFeatureColumn[] }> {
  const parts = features.map(
    (
      _,
      j,
    ) => `count(x${j}) AS c${j}, coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY x${j}), 0) AS m${j},
      min(x${j}) AS lo${j}, max(x${j}) AS hi${j}, coalesce(bool_and(x${j} IN (0, 1)), true) AS b${j}`,
  );
  const { rows } = await db.query(`SELECT count(*)::float8 AS n, ${parts.join(', ')} FROM ${table}`);
  const r = (rows[0] ?? {}) as Record<string, unknown>;
  const n = Number(r.n ?? 0);
  const num = (v: unknown) => (v === null || v === undefined ? Number.NaN : Number(v));
  return {
    n,
    columns: features.map((name, j) => ({
      name,
      missing: n - Number(r[`c${j}`] ?? 0),
      median: num(r[`m${j}`]),
      min: num(r[`lo${j}`]),
      max: num(r[`hi${j}`]),
      binary: r[`b${j}`] === true,
    })),
  };
}

function scanOf(
  db: Queryable,
  team: string,
  table: string,
  features: readonly string[],
  stats: { n: number; columns: PersonFeatureColumn[] },
  release: () => Promise<void>,
): HeldScan {
  const d = features.length;
  return {
    n: stats.n,
    columns: stats.columns,
    moments: (log) => moments(db, table, stats.columns, log),
    sample: (size, seed) => sampleRows(db, table, d, stats.n, size, seed),
    summarize: (assignment) => summarize(db, team, table, features, assignment),
    release,
  };
}

/** Means and sample sds of the filled (and, with `log`, signed-log) columns. */
async function moments(
  db: Queryable,
  table: string,
  columns: readonly PersonFeatureColumn[],
  log: boolean,
): Promise<{ means: number[]; sds: number[] }> {
  const value = (j: number) => {
    const filled = `coalesce(x${j}, ${lit(columns[j]?.median as number)})`;
    return log ? `(sign(${filled}) * ln(1 + abs(${filled})))` : filled;
  };
  const parts = columns.map(
    (_, j) => `coalesce(avg(${value(j)}), 0) AS m${j}, coalesce(stddev_samp(${value(j)}), 0) AS s${j}`,
  );
  const { rows } = await db.query(`SELECT ${parts.join(', ')} FROM ${table}`);
  const r = (rows[0] ?? {}) as Record<string, unknown>;
  return {
    means: columns.map((_, j) => Number(r[`m${j}`])),
    sds: columns.map((_, j) => Number(r[`s${j}`])),
  };
}

/** Everyone in stored order when there are at most `size`, else `size` people ordered by a seeded hash of the id. */
async function sampleRows(
  db: Queryable,
  table: string,
  d: number,
  n: number,
  size: number,
  seed: number,
): Promise<PersonFeatureRows> {
  const xs = Array.from({ length: d }, (_, j) => `x${j}`).join(', ');
  const sql =
    n <= size
      ? `SELECT id, ${xs} FROM ${table} ORDER BY seq`
      : `SELECT id, ${xs} FROM (SELECT * FROM ${table} ORDER BY hashtextextended(id, $1), id LIMIT $2) s ORDER BY seq`;
  const { rows } = await db.query(sql, n <= size ? [] : [seed, size]);
  const columns = Array.from({ length: d }, () => new Float64Array(rows.length));
  const userIds = rows.map((row: Record<string, unknown>, i) => {
    for (let j = 0; j < d; j++) {
      const v = row[`x${j}`];
      (columns[j] as Float64Array)[i] = v === null ? Number.NaN : Number(v);
    }
    return row.id as string;
  });
  return { userIds, columns };
}

/** The column of the scan's table that holds clustered feature j of `a`. */
function scanColumn(features: readonly string[], a: CentreAssignment): (j: number) => string {
  return (j) => `x${features.indexOf(a.features[j] as string)}`;
}

/** Drops the workspace's placements older than KEPT_FOR, and `placement` (recorded) when given. */
async function dropStalePlacements(db: Queryable, team: string, placement?: string): Promise<void> {
  await db.query(
    `DELETE FROM segment_placements
      WHERE team_id = $1 AND (placement < ${placementKeyAt(`clock_timestamp() - ${KEPT_FOR}`)} OR placement = $2)`,
    [team, placement ?? null],
  );
}

/**
 * Drops a recorded placement and the workspace's stale ones: by TRUNCATE when the table holds nothing else (one
 * segmentation at a time, the usual case), else row by row. Deleting a placement's 2M rows took 3.3-4.5 s at 2M
 * (load 5). The table's exclusive lock is only tried (NOWAIT, under a savepoint released again when others' rows
 * are there): another session reading or writing placements keeps it, and the rows are then deleted.
 */
async function dropRecordedPlacement(db: Queryable, team: string, placement: string): Promise<void> {
  await db.query('SAVEPOINT drop_placement');
  try {
    await db.query('LOCK TABLE segment_placements IN ACCESS EXCLUSIVE MODE NOWAIT');
    const { rows } = await db.query<{ others: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM segment_placements WHERE team_id <> $1 OR placement <> $2) AS others',
      [team, placement],
    );
    if (rows[0]?.others === false) {
      await db.query('TRUNCATE segment_placements');
      await db.query('RELEASE SAVEPOINT drop_placement');
      return;
    }
  } catch (error) {
    // 55P03 lock_not_available: someone else is using the table.
    if ((error as { code?: string }).code !== '55P03') throw error;
  }
  await db.query('ROLLBACK TO SAVEPOINT drop_placement');
  await db.query('RELEASE SAVEPOINT drop_placement');
  await dropStalePlacements(db, team, placement);
}

/**
 * Everyone placed at the nearest centre, with the per-centre sums, medians and means the segments need; the same
 * pass keeps everyone's centre under a new key (`segment_placements`) for recording the run, returned as `kept`.
 */
async function summarize(
  db: Queryable,
  team: string,
  table: string,
  features: readonly string[],
  a: CentreAssignment,
): Promise<AssignedSummary> {
  const d = a.features.length;
  const k = a.centres.length;
  const monetary = features.indexOf('monetary');
  const columnOf = scanColumn(features, a);
  if (monetary < 0 || !a.features.every((f) => features.includes(f))) {
    throw new Error(
      'internal: a segmentation scan needs the clustered features and monetary (revenue shares)',
    );
  }
  // The scaled values are computed again from the raw ones where they are summed (the same expression, so the
  // same figures), not carried: the rows kept and sorted by segment are half as wide, and fit in memory at 2M.
  const parts = a.features.map((f, j) => {
    const v = describedAs(f, `x${j}`);
    const sj = scaled(a, j, `x${j}`);
    return `sum(${sj}) AS sum${j}, sum(${sj} * ${sj}) AS sq${j},
      coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY ${v}), 0) AS med${j}, avg(${v}) AS mean${j}`;
  });
  const xs = a.features.map((_, j) => `${columnOf(j)} AS x${j}, `).join('');
  const kept = Array.from({ length: d }, (_, j) => `x${j}`).join(', ');
  await dropStalePlacements(db, team);
  const { rows: made } = await db.query<{ key: string }>(
    `SELECT ${placementKeyAt('clock_timestamp()')} || '/' || gen_random_uuid() AS key`,
  );
  const key = made[0]?.key as string;
  // Each person's distances computed once (q, materialized), for both the placement kept and the sums.
  const { rows } = await db.query(
    `WITH q AS MATERIALIZED (
       SELECT ord, id, label, revenue, ${kept}
         FROM (${placed(a, table, `ord, id, ${xs}x${monetary} AS revenue,`, columnOf)}) p),
     keep AS (INSERT INTO segment_placements (team_id, placement, ord, user_id, label)
       SELECT $1, $2, ord, id, label FROM q)
     SELECT label, count(*)::float8 AS n, coalesce(sum(revenue), 0) AS revenue, ${parts.join(', ')}
       FROM q GROUP BY GROUPING SETS ((label), ())`,
    [team, key],
  );
  const num = (v: unknown) => (v === null || v === undefined ? Number.NaN : Number(v));
  const byLabel = new Map<number, Record<string, unknown>>();
  let all: Record<string, unknown> = {};
  for (const row of rows as Array<Record<string, unknown>>) {
    if (row.label === null) all = row;
    else byLabel.set(Number(row.label), row);
  }
  const per = (c: number, name: string) => {
    const row = byLabel.get(c);
    return row ? num(row[name]) : 0;
  };
  const js = Array.from({ length: d }, (_, j) => j);
  return {
    sizes: Array.from({ length: k }, (_, c) => per(c, 'n')),
    sums: Array.from({ length: k }, (_, c) => js.map((j) => per(c, `sum${j}`))),
    squares: Array.from({ length: k }, (_, c) => js.map((j) => per(c, `sq${j}`))),
    revenue: Array.from({ length: k }, (_, c) => per(c, 'revenue')),
    medians: Array.from({ length: k }, (_, c) => js.map((j) => per(c, `med${j}`))),
    means: Array.from({ length: k }, (_, c) =>
      js.map((j) => (byLabel.has(c) ? num(byLabel.get(c)?.[`mean${j}`]) : Number.NaN)),
    ),
    allMedians: js.map((j) => num(all[`med${j}`] ?? 0)),
    allMeans: js.map((j) => num(all[`mean${j}`])),
    kept: key,
  };
}

/** The SELECT of everyone placed as `placement` says (seq, id, label: the segment), and its parameters. */
async function placedSelect(
  db: Queryable,
  team: string,
  placement: SegmentPlacement,
): Promise<{ sql: string; params: unknown[] }> {
  const { query, assignment, order } = placement;
  if (!sqlSegmentFeatures(query.features)) {
    throw new Error('internal: a placed run with features SQL cannot compute');
  }
  const params = await featureParams(db, team, query.asOf);
  const counted = await anchoredAt(db, team, FEATURE_SLOTS.now, query.asOf);
  const rows = `(${featuresSelect(query.features, counted)}) f`;
  const sql = `SELECT seq, id, ($9::int[])[label + 1] AS label
       FROM (${placed(assignment, rows, 'seq, id,', (j) => `x${j}`)}) q`;
  return { sql, params: [...params, order] };
}

/**
 * Settings for the statements that place everyone, in the caller's transaction (a change): memory for the
 * per-person aggregation. JIT is left to the server's setting and cost thresholds: with each level of the
 * placement a subquery of its own (`placed`), compiling the expressions (1-2 s with optimization, only above
 * `jit_optimize_above_cost`, about a million people) costs less than interpreting them (at 2M, load 5-6: the
 * features 22.5 → 18.1 s, the summing pass 26.9 → 17.8 s, the same labels and figures).
 */
async function settle(db: Queryable): Promise<void> {
  await db.query(`SET LOCAL work_mem = '${WORK_MEM}'`);
  // The counters' active-days mask is computed per row (`countersAt`); a cache keyed by each row's day list
  // missed 93% of the time at 2M people and cost the hashing of every list.
  await db.query('SET LOCAL enable_memoize = off');
}

/** Everyone's segment under `placement`, in stored order (for a run not stored yet). */
export async function placedAssignments(
  db: Queryable,
  team: string,
  placement: SegmentPlacement,
): Promise<{ userIds: string[]; labels: number[] }> {
  const read = async (client: Queryable) => {
    await settle(client);
    if (placement.kept !== undefined) {
      const { rows } = await client.query<{ id: string; label: number }>(
        `SELECT user_id AS id, ($3::int[])[label + 1] AS label FROM segment_placements
          WHERE team_id = $1 AND placement = $2 ORDER BY ord`,
        [team, placement.kept, placement.order],
      );
      if (rows.length > 0) return { userIds: rows.map((r) => r.id), labels: rows.map((r) => r.label) };
    }
    const { sql, params } = await placedSelect(client, team, placement);
    const { rows } = await client.query<{ id: string; label: number }>(`${sql} ORDER BY seq`, params);
    return { userIds: rows.map((r) => r.id), labels: rows.map((r) => r.label) };
  };
  return 'connect' in db
    ? inTransaction(db as pg.Pool, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', read)
    : read(db);
}

/**
 * Writes the assignments of a run placed in SQL: everyone at the nearest centre of the placement, labelled
 * with the centre's segment, in stored order; nothing passes through the app. Copied from the scan's kept
 * placement when it is still there (the same people and centres the reply counted), else placed again.
 */
export async function insertPlacedAssignments(
  db: Queryable,
  team: string,
  runId: string,
  placement: SegmentPlacement,
): Promise<void> {
  if (placement.kept !== undefined) {
    // All of a placement's rows or none: they are written by one statement and dropped by one.
    const { rowCount } = await db.query(
      `INSERT INTO segment_assignments (team_id, run_id, ord, user_id, label)
       SELECT $1, $2, ord, user_id, ($3::int[])[label + 1] FROM segment_placements
        WHERE team_id = $1 AND placement = $4`,
      [team, runId, placement.order, placement.kept],
    );
    await dropRecordedPlacement(db, team, placement.kept);
    if ((rowCount ?? 0) > 0) return;
  }
  const { sql, params } = await placedSelect(db, team, placement);
  await settle(db);
  await db.query(
    `INSERT INTO segment_assignments (team_id, run_id, ord, user_id, label)
     SELECT $1, $10, row_number() OVER (ORDER BY seq) - 1, id, label FROM (${sql}) p`,
    [...params, runId],
  );
}
