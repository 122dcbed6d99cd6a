/**
 * The scale benchmark's audience, generated inside PostgreSQL with set-based SQL (generate_series), straight
 * into the app's own schema: profiles, products and monthly interaction partitions, then the indexes, the stats
 * rollups (recounted by the app's own `rebuildRollups`), the attribute kinds and the audience_meta counts, so the
 * database ends in the state an import of the same rows leaves (plus VACUUM ANALYZE, which autovacuum would do).
 *
 * Shapes (seeded with setseed, so a rerun gives the same audience):
 * - people: ids `u` + 8 digits; sign-ups over three years, more of them recently; 60% ever interact, with
 *   long-tailed activity (a bounded power law, see `ranked`: at 10M/100M the busiest 1% make about 45% of the
 *   events, the busiest person about 4k, the quieter half 2–3 each), spread over ids by a multiplicative
 *   permutation so activity is not tied to id order; followers long-tailed (10 to 10^6).
 * - products: ids `p` + 6 digits, 20k, log-normal prices; popularity long-tailed (the top 1% take about half).
 * - events: monthly volume grows threefold over the years; views 70%, likes 12%, clicks 8%, comments 3%, shares
 *   2%, purchases 3% (log-normal amounts), ratings 2% (half stars); times uniform within each month, to the ms,
 *   written in time order within each month.
 * Indexes are dropped before the load and rebuilt after it (as a bulk load into an empty table should); the
 * rollup triggers are off during the load and the rollups recounted after, which is what they would hold.
 */
import type pg from 'pg';
import { ensureMonthPartitions, monthOf } from '../src/store/postgres/partitions.ts';
import { rebuildRollups } from '../src/store/postgres/rollups.ts';

const DAY = 86_400_000;

/** What to generate. */
export interface ScaleSpec {
  team: string;
  profiles: number;
  interactions: number;
  products: number;
  /** The instant the audience ends (exclusive), epoch ms. */
  end: number;
  years: number;
}

/** Profile id of person `i` (1-based), as the generator writes it. */
export function personId(i: number): string {
  return `u${String(i).padStart(8, '0')}`;
}

type Log = (line: string) => void;

async function step(log: Log, what: string, fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  const seconds = (performance.now() - started) / 1000;
  log(`${what}: ${seconds.toFixed(1)} s`);
  return seconds;
}

/** Months from the start to the end of the spec, each with its share of the events (growing threefold). */
export function monthPlan(
  spec: ScaleSpec,
): Array<{ month: string; start: number; end: number; events: number }> {
  const first = new Date(spec.end - spec.years * 365 * DAY);
  const months: Array<{ month: string; start: number; end: number; weight: number }> = [];
  let cursor = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1);
  while (cursor < spec.end) {
    const d = new Date(cursor);
    const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    months.push({ month: monthOf(cursor), start: cursor, end: Math.min(next, spec.end), weight: 0 });
    cursor = next;
  }
  months.forEach((m, i) => {
    m.weight = (1 + (2 * i) / Math.max(1, months.length - 1)) * ((m.end - m.start) / (30 * DAY));
  });
  const total = months.reduce((s, m) => s + m.weight, 0);
  let left = spec.interactions;
  return months.map((m, i) => {
    const events = i === months.length - 1 ? left : Math.round((spec.interactions * m.weight) / total);
    left -= events;
    return { month: m.month, start: m.start, end: m.end, events };
  });
}

/**
 * The non-unique indexes of a table (the primary key stays), as their CREATE statements. For a partitioned table
 * `pg_get_indexdef` says `ON ONLY`, which would create the parent's index alone (INVALID, no partition indexed):
 * recreated without it, every partition gets its index again.
 */
async function secondaryIndexes(
  client: pg.Client,
  table: string,
): Promise<Array<{ name: string; sql: string }>> {
  const { rows } = await client.query<{ name: string; sql: string }>(
    `SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS sql
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
      WHERE x.indrelid = $1::regclass AND NOT x.indisprimary`,
    [table],
  );
  return rows.map((r) => ({ name: r.name, sql: r.sql.replace(' ON ONLY ', ' ON ') }));
}

const PROFILES_SQL = `
INSERT INTO profiles (team_id, id, platform, country, created_at, last_active_at, followers, interests, attrs)
SELECT $1, 'u' || lpad(g::text, 8, '0'),
       (ARRAY['instagram','instagram','instagram','instagram','tiktok','tiktok','tiktok','youtube','youtube','x',
              'facebook'])[1 + floor(r1 * 11)::int],
       CASE WHEN r2 < 0.03 THEN NULL ELSE (ARRAY['US','GB','DE','FR','BR','IN','JP','CA','ES','IT','MX','AU','NL',
              'SE','PL','TR','KR','ID','NG','AR'])[1 + floor(r3 ^ 2 * 20)::int] END,
       created,
       CASE WHEN r4 < 0.5 THEN created + r5 * ($3::timestamptz - created) END,
       floor(power(10, 1 + 5 * r6 ^ 3))::bigint,
       CASE WHEN r7 < 0.6
         THEN ARRAY[i1, (ARRAY['food','travel','tech','fashion','sport','music','gaming','beauty','fitness','books',
              'film','pets'])[1 + (floor(r8 * 12)::int + 1 + floor(r7 * 11)::int) % 12]]
         ELSE ARRAY[i1] END,
       jsonb_build_object('loyalty_tier', (ARRAY['free','free','free','plus','plus','pro'])[1 + floor(r5 * 6)::int],
                          'lifetime_value', round(exp(r2 * 7)::numeric, 2))
  FROM (SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5, random() AS r6,
               random() AS r7, random() AS r8,
               $3::timestamptz - (1 - sqrt(random())) * $4::float8 * interval '1 ms' AS created,
               (ARRAY['food','travel','tech','fashion','sport','music','gaming','beauty','fitness','books','film',
                      'pets'])[1 + floor(random() ^ 1.5 * 12)::int] AS i1
          FROM generate_series($2::bigint, $5::bigint) AS g) AS s`;

/** Power-law rank parameters: people (offset 5000, exponent 1.1) and products (offset 20, exponent 1.2). */
export const PEOPLE_TAIL = { offset: 5000, alpha: 1.1 };
export const PRODUCT_TAIL = { offset: 20, alpha: 1.2 };

/**
 * A rank in [0, n) drawn from a power law bounded at the head: P(k) ∝ (k + offset)^-alpha, by inverting its
 * continuous CDF at `u` (uniform in [0, 1)). The offset keeps the busiest from taking an absurd share.
 */
export function ranked(n: number, tail: { offset: number; alpha: number }, u: number): number {
  const e = 1 - tail.alpha;
  const lo = tail.offset ** e;
  const hi = (n + tail.offset) ** e;
  return Math.min(n - 1, Math.max(0, Math.floor((lo - u * (lo - hi)) ** (1 / e) - tail.offset)));
}

/** `ranked` in SQL, over `n` (an SQL expression), with a fresh random() each row. */
function rankedSql(n: string, tail: { offset: number; alpha: number }): string {
  const e = 1 - tail.alpha;
  return `least(${n} - 1, greatest(0, floor(power(power(${tail.offset}::float8, ${e}) - random() *
    (power(${tail.offset}::float8, ${e}) - power(${n} + ${tail.offset}, ${e})), ${1 / e}) - ${tail.offset})))::bigint`;
}

/** The person (1-based) of activity rank `k`: a multiplicative permutation of 1..n, so ranks are not id order. */
export function personOfRank(k: number, n: number): number {
  return Number((BigInt(k) * 7919n + 13n) % BigInt(n)) + 1;
}

/** The product (1-based) of popularity rank `k` among `n`. */
export function productOfRank(k: number, n: number): number {
  return Number((BigInt(k) * 104729n + 7n) % BigInt(n)) + 1;
}

// Written in time order within the month, as events arrive: a day's events then lie on neighbouring pages (a
// time window reads its own pages, not a few rows on every page of the month) and the time index builds from
// sorted rows.
const INTERACTIONS_SQL = `
INSERT INTO interactions (team_id, user_id, item_id, type, value, at)
SELECT * FROM (SELECT $1,
       'u' || lpad(((${rankedSql('$3::float8', PEOPLE_TAIL)} * 7919 + 13) % $2::bigint + 1)::text, 8, '0'),
       CASE WHEN t IN ('view', 'purchase', 'rating', 'click', 'like')
         THEN 'p' || lpad(((${rankedSql('$4::float8', PRODUCT_TAIL)} * 104729 + 7) % $4::bigint + 1)::text, 6, '0') END,
       t,
       CASE t WHEN 'purchase' THEN round(exp(2.3 + random() * 2.2)::numeric, 2)::float8
              WHEN 'rating' THEN (1 + floor(random() * 10)) / 2.0 END,
       to_timestamp(floor($5::float8 + random() * $6::float8) / 1000.0) AS at
  FROM (SELECT CASE WHEN r < 0.70 THEN 'view' WHEN r < 0.82 THEN 'like' WHEN r < 0.90 THEN 'click'
                    WHEN r < 0.93 THEN 'comment' WHEN r < 0.95 THEN 'share' WHEN r < 0.98 THEN 'purchase'
                    ELSE 'rating' END AS t
          FROM (SELECT random() AS r FROM generate_series(1, $7::bigint)) AS g) AS e) AS ev ORDER BY at`;

/** Empties the workspace's audience, then generates it (see the file's comment); returns seconds per part. */
export async function generateAudience(
  client: pg.Client,
  spec: ScaleSpec,
  log: Log,
): Promise<Record<string, number>> {
  const seconds: Record<string, number> = {};
  const end = new Date(spec.end).toISOString();
  await client.query(`SET maintenance_work_mem = '1GB'`);
  await client.query(`SET work_mem = '256MB'`);
  await client.query('SET synchronous_commit = off');
  await client.query('SELECT setseed(0.42)');
  const plan = monthPlan(spec);
  await ensureMonthPartitions(
    client as unknown as pg.PoolClient,
    plan.map((m) => m.month),
  );
  const indexes = [
    ...(await secondaryIndexes(client, 'interactions')),
    ...(await secondaryIndexes(client, 'profiles')),
  ];
  // The bench's own database: emptied whole (a DELETE of 100M rows would run the rollup triggers).
  await client.query(
    `TRUNCATE interactions, profiles, products, attribute_kinds, segment_runs, segment_assignments, models,
       profile_tallies, person_activity, interaction_days, event_buckets, activity_buckets, profile_pseudonyms,
       week_edges`,
  );
  for (const { name } of indexes) await client.query(`DROP INDEX ${name}`);
  await client.query('ALTER TABLE interactions DISABLE TRIGGER USER');
  await client.query('ALTER TABLE profiles DISABLE TRIGGER USER');
  try {
    seconds.products = await step(log, `products ${spec.products}`, () =>
      client.query(
        `INSERT INTO products (team_id, id, name, category, price, in_stock)
         SELECT $1, 'p' || lpad(g::text, 6, '0'), 'Product ' || g, 'c' || (g % 40),
                round(exp(1.5 + random() * 4)::numeric, 2)::float8, random() < 0.9
           FROM generate_series(1, $2::int) AS g`,
        [spec.team, spec.products],
      ),
    );
    await client.query(
      `INSERT INTO attribute_kinds (team_id, name, kind, seq)
       VALUES ($1, 'loyalty_tier', 'category', nextval('audience_row_seq')),
              ($1, 'lifetime_value', 'number', nextval('audience_row_seq'))`,
      [spec.team],
    );
    const span = spec.years * 365 * DAY;
    seconds.profiles = 0;
    for (let from = 1; from <= spec.profiles; from += 1_000_000) {
      const to = Math.min(spec.profiles, from + 999_999);
      seconds.profiles += await step(
        log,
        `profiles ${from.toLocaleString('en')}–${to.toLocaleString('en')}`,
        () => client.query(PROFILES_SQL, [spec.team, from, end, span, to]),
      );
    }
    seconds.interactions = 0;
    let done = 0;
    for (const m of plan) {
      const active = Math.max(1, Math.floor(spec.profiles * 0.6));
      seconds.interactions += await step(
        log,
        `interactions ${m.month} (${m.events.toLocaleString('en')})`,
        () =>
          client.query(INTERACTIONS_SQL, [
            spec.team,
            spec.profiles,
            active,
            spec.products,
            m.start,
            m.end - m.start,
            m.events,
          ]),
      );
      done += m.events;
      const perTen = seconds.interactions / (done / 1e7);
      log(`  ${done.toLocaleString('en')} events so far, ${perTen.toFixed(0)} s per 10M`);
    }
    // Before the indexes and the rollups read it: the first read of a freshly loaded row sets its hint bits, which
    // rewrites every page; VACUUM does that once (and marks the pages all-visible, for index-only scans).
    seconds.vacuum = await step(log, 'VACUUM (ANALYZE) of the loaded tables', () =>
      client.query('VACUUM (ANALYZE) profiles, products, interactions'),
    );
  } finally {
    seconds.indexes = await step(log, `indexes (${indexes.map((i) => i.name).join(', ')})`, async () => {
      for (const { sql } of indexes) await client.query(sql);
    });
    await client.query('ALTER TABLE interactions ENABLE TRIGGER USER');
    await client.query('ALTER TABLE profiles ENABLE TRIGGER USER');
  }
  seconds.rollups = await step(log, 'rollups (rebuildRollups)', async () => {
    await client.query('BEGIN');
    // The per-person GROUP BY holds a row per active person (about 210 bytes each: 123 MB for 591k people at
    // 1M/10M): in memory, not spilled to disk in batches as with 256 MB at 10M/100M (6M people).
    await client.query(`SET LOCAL work_mem = '1GB'`);
    // The stats slices follow person_activity's rows by trigger; rebuildRollups recounts them at its end anyway.
    await client.query('ALTER TABLE person_activity DISABLE TRIGGER USER');
    await rebuildRollups(client, spec.team);
    await client.query('ALTER TABLE person_activity ENABLE TRIGGER USER');
    await client.query(
      `INSERT INTO audience_meta AS m (team_id, data_version, updated_at, source, profiles, products, interactions)
       VALUES ($1, 1, $2, 'import', $3, $4, $5)
       ON CONFLICT (team_id) DO UPDATE SET data_version = m.data_version + 1, updated_at = $2, source = 'import',
         profiles = $3, products = $4, interactions = $5`,
      [spec.team, end, spec.profiles, spec.products, spec.interactions],
    );
    await client.query('COMMIT');
  });
  seconds.analyze = await step(log, 'VACUUM (ANALYZE) of the rollups', () =>
    client.query(
      // The window counters too: unanalyzed, the planner took the "now" anchor's 290k rows (1M / 10M) for 16.
      `VACUUM (ANALYZE) person_activity, interaction_days, profile_tallies, event_buckets, activity_buckets,
         person_windows, feature_anchors, profile_pseudonyms`,
    ),
  );
  return seconds;
}
