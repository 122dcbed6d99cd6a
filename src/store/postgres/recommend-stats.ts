/**
 * The recommender's statistics in SQL (issue #14; the terms are defined in src/domain/recommend-stats.ts and the
 * engine computes the same numbers from memory for the file backend). One scan holds one pooled connection in a
 * REPEATABLE READ transaction, so every read of a build sees one state of the data, and keeps two temporary
 * tables for it: `reco_cells`, one row per (person, catalogue item) with the strongest weight, the summed weight,
 * first and last times and purchases (and one per person with item NULL for events outside the catalogue, so that
 * the next table needs no second pass over every event); and `reco_people`, grouped from the cells, one row per
 * person in the engine's order (profiles by `seq`, then people only seen in interactions by their first event)
 * with their positions. The app receives counts, a bounded sample of people's own rows, and m × m item-pair sums:
 * never every interaction.
 */
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type {
  RecommendCellRules,
  RecommendCensus,
  RecommendPairSums,
  RecommendSamplePlan,
  RecommendSampleRows,
  RecommendSegmentSums,
  RecommendStatsScan,
  RecommendStatsSource,
} from '../../domain/recommend-stats.ts';
import {
  INTERACTION_COLUMNS,
  ms,
  PRODUCT_COLUMNS,
  PROFILE_COLUMNS,
  toInteraction,
  toProduct,
  toProfile,
  ts,
} from './rows.ts';

const DAY = 86_400_000;
const WEEK = 7 * DAY;

/** The recommender's statistics of one workspace, each scan on its own connection from `pool`. */
export function pgRecommendStats(pool: pg.Pool, team: string): RecommendStatsSource {
  return {
    async open() {
      const client = await pool.connect();
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
        const { rows } = await client.query(
          `SELECT (SELECT data_version FROM audience_meta WHERE team_id = $1) AS version,
                  (SELECT ${ms('max(at)')} FROM interactions WHERE team_id = $1) AS latest`,
          [team],
        );
        const head = rows[0] as { version: string | number | null; latest: number | null };
        return new PgRecommendScan(client, team, Number(head.version ?? 0), head.latest);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        client.release();
        throw error;
      }
    },
  };
}

/** The decay per millisecond of a half-life in days (0: none), as the engine computes it. */
function decayPerMs(halfLifeDays: number): number {
  return halfLifeDays > 0 ? Math.LN2 / (halfLifeDays * DAY) : 0;
}

class PgRecommendScan implements RecommendStatsScan {
  private rules: RecommendCellRules | null = null;
  private threshold = 4;
  private anyPurchase = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly team: string,
    readonly version: number,
    readonly latest: number | null,
  ) {}

  async products() {
    const { rows } = await this.client.query(
      `SELECT ${PRODUCT_COLUMNS} FROM products WHERE team_id = $1 ORDER BY seq`,
      [this.team],
    );
    return rows.map(toProduct);
  }

  async cells(rules: RecommendCellRules): Promise<void> {
    this.rules = rules;
    const db = this.client;
    const asOf = ts(rules.asOf);
    this.threshold = rules.ratingThreshold ?? (await ratingThreshold(db, this.team, asOf));
    const types = Object.keys(rules.typeWeights);
    // One build's big sorts and joins: memory for them, and no JIT (compiling hundreds of functions costs seconds).
    await db.query("SET LOCAL work_mem = '256MB'");
    await db.query('SET LOCAL jit = off');
    await db.query('DROP TABLE IF EXISTS reco_cells, reco_people');
    await db.query(CELLS_SQL, [
      this.team,
      asOf,
      this.threshold,
      types,
      types.map((t) => rules.typeWeights[t as keyof typeof rules.typeWeights]),
      rules.lowRatingWeight,
      rules.knownTypes,
      ts(rules.asOf - rules.recentDays * DAY),
      ts(rules.asOf - rules.propensityWindowDays * DAY),
    ]);
    // The per-person table groups the cells, not every event again: the planner needs their size to do it well.
    await db.query('ANALYZE reco_cells');
    this.anyPurchase = (
      await db.query('SELECT EXISTS (SELECT 1 FROM reco_cells WHERE buys > 0 AND item IS NOT NULL) AS b')
    ).rows[0]?.b as boolean;
    await db.query(PEOPLE_SQL, [
      this.team,
      ts(rules.asOf - rules.propensityWindowDays * DAY),
      rules.maxHistory,
      rules.asOf,
      WEEK,
    ]);
  }

  private need(): RecommendCellRules {
    if (!this.rules) throw new Error('recommendation statistics: call cells(rules) first');
    return this.rules;
  }

  async census(): Promise<RecommendCensus> {
    const rules = this.need();
    const db = this.client;
    const halfLives = [...rules.popularityHalfLives];
    const items = await db.query(itemsSql(halfLives.length), [
      rules.maxHistory,
      this.anyPurchase,
      rules.asOf,
      rules.asOf - rules.recentDays * DAY,
      ...halfLives.map(decayPerMs),
    ]);
    const nItems = Number((await db.query(COUNT_PRODUCTS, [this.team])).rows[0]?.n ?? 0);
    const perItem = (key: string) => {
      const out = new Array<number>(nItems).fill(0);
      for (const r of items.rows) out[r.item as number] = Number(r[key]);
      return out;
    };
    const popularity: Record<string, number[]> = {};
    halfLives.forEach((h, k) => {
      const out = new Array<number>(nItems).fill(0);
      for (const r of items.rows) out[r.item as number] = Number(r[`pop${k}`]);
      popularity[String(h)] = out;
    });
    const people = (await db.query(PEOPLE_TOTALS_SQL)).rows[0] as Record<string, string | number>;
    const lengths = await db.query(
      'SELECT positive, count(*)::int AS n FROM reco_people WHERE positive >= 2 GROUP BY positive',
    );
    const lengthHistogram: number[] = [];
    for (const r of lengths.rows) {
      while (lengthHistogram.length <= r.positive) lengthHistogram.push(0);
      lengthHistogram[r.positive as number] = r.n as number;
    }
    return {
      nItems,
      ratingThreshold: this.threshold,
      anyPurchase: this.anyPurchase,
      users: Number(people.users),
      eligibleUsers: Number(people.eligible),
      lengthHistogram,
      evidenceUsers: Number(people.evidence),
      windowPurchases: Number(people.window_buys),
      exposureWeeks: Number(people.exposure),
      engaged: perItem('engaged'),
      buyers: perItem('buyers'),
      engagers: perItem('engagers'),
      repeaters: perItem('repeaters'),
      recentPurchases: perItem('recent'),
      popularity,
    };
  }

  async sample(plan: RecommendSamplePlan): Promise<RecommendSampleRows> {
    const rules = this.need();
    const db = this.client;
    const { rows } = await db.query(
      `SELECT user_id AS id, user_rank, eligible_rank, evidence_rank FROM reco_people
        WHERE $1::boolean OR user_rank = ANY($2) OR eligible_rank = ANY($3)
           OR (evidence_rank >= 0 AND ($4::boolean OR evidence_rank = ANY($5)))
        ORDER BY user_rank`,
      [plan.users === null, plan.users ?? [], plan.eligible, plan.evidence === null, plan.evidence ?? []],
    );
    const people = rows.map((r) => ({
      id: r.id as string,
      userRank: Number(r.user_rank),
      eligibleRank: Number(r.eligible_rank),
      evidenceRank: Number(r.evidence_rank),
    }));
    const ids = people.map((p) => p.id);
    const profiles = await db.query(
      `SELECT ${PROFILE_COLUMNS} FROM profiles WHERE team_id = $1 AND id = ANY($2) ORDER BY seq`,
      [this.team, ids],
    );
    const interactions = await db.query(
      `SELECT ${INTERACTION_COLUMNS} FROM interactions
        WHERE team_id = $1 AND user_id = ANY($2) AND at < $3 ORDER BY seq`,
      [this.team, ids, ts(rules.asOf)],
    );
    return {
      people,
      profiles: profiles.rows.map(toProfile),
      interactions: interactions.rows.map(toInteraction),
    };
  }

  async pairs(items: readonly number[], halfLifeDays: number): Promise<RecommendPairSums> {
    const rules = this.need();
    if (items.length === 0)
      return {
        items: [],
        gram: new Float64Array(0),
        coBought: new Int32Array(0),
        coEngaged: new Int32Array(0),
      };
    // The pairs are summed here as the cells stream by, one person at a time (COPY): a person's pairs grow with
    // the square of their items, too many rows for SQL to aggregate fast; the app holds m × m sums. reco_cells is
    // written person by person (its row number is a window over each person), so a scan in stored order already
    // groups them and no sort of every cell is needed; should a plan ever deliver a person in two runs, the
    // accumulator sees an id out of order and the sums are taken again with ORDER BY.
    const grouped = await this.pairSums(items, halfLifeDays, rules, false);
    return grouped ?? ((await this.pairSums(items, halfLifeDays, rules, true)) as RecommendPairSums);
  }

  /** The pair sums from one COPY of the model's cells; null when `sorted` is off and people came out of order. */
  private async pairSums(
    items: readonly number[],
    halfLifeDays: number,
    rules: RecommendCellRules,
    sorted: boolean,
  ): Promise<RecommendPairSums | null> {
    const sql = `COPY (${PAIR_CELLS_SQL.replace('$1', `'{${items.join(',')}}'::int[]`)
      .replace('$2', String(rules.maxHistory))
      .replace('$3', this.anyPurchase ? 'true' : 'false')}${sorted ? ' ORDER BY c.user_id' : ''}) TO STDOUT`;
    const acc = new PairAccumulator(items, decayPerMs(halfLifeDays), rules.asOf, !sorted);
    const stream = this.client.query(copyTo(sql));
    let rest = '';
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = rest + chunk.toString('utf8');
      const end = text.lastIndexOf('\n');
      if (end < 0) {
        rest = text;
        continue;
      }
      acc.lines(text, end);
      rest = text.slice(end + 1);
    }
    if (rest.length > 0) acc.lines(`${rest}\n`, rest.length);
    return acc.finish();
  }

  async segmentSums(runId: string, segments: number, halfLifeDays: number): Promise<RecommendSegmentSums> {
    const rules = this.need();
    const nItems = Number((await this.client.query(COUNT_PRODUCTS, [this.team])).rows[0]?.n ?? 0);
    const counts = Array.from({ length: segments }, () => new Array<number>(nItems).fill(0));
    const totals = new Array<number>(segments).fill(0);
    const { rows } = await this.client.query(
      `SELECT s.label, c.item, sum(c.buys * exp(-$3::float8 * greatest(0, $4::float8 - c.last_buy))) AS d
         FROM segment_assignments s JOIN reco_cells c ON c.user_id = s.user_id
        WHERE s.team_id = $1 AND s.run_id = $2 AND s.label >= 0 AND s.label < $5 AND c.buys > 0
          AND c.item IS NOT NULL
        GROUP BY s.label, c.item`,
      [this.team, runId, decayPerMs(halfLifeDays), rules.asOf, segments],
    );
    for (const r of rows) {
      const row = counts[r.label as number] as number[];
      row[r.item as number] = Number(r.d);
    }
    counts.forEach((row, s) => {
      totals[s] = row.reduce((a, b) => a + b, 0);
    });
    return { counts, totals };
  }

  async release(): Promise<void> {
    try {
      await this.client.query('ROLLBACK');
    } finally {
      this.client.release();
    }
  }
}

const COUNT_PRODUCTS = 'SELECT count(*)::int AS n FROM products WHERE team_id = $1';

/** 80% of the highest rating before asOf when above 5 (at least 8), else 4: the engine's rule. */
async function ratingThreshold(db: pg.PoolClient, team: string, asOf: string | null): Promise<number> {
  const { rows } = await db.query(
    `SELECT coalesce(max(value), 0) AS m FROM interactions
      WHERE team_id = $1 AND type = 'rating' AND at < $2 AND value IS NOT NULL AND value = value`,
    [team, asOf],
  );
  const max = Math.max(0, Number(rows[0]?.m ?? 0));
  return max > 5 ? 0.8 * Math.max(10, max) : 4;
}

// An event's type weight ($5) by its type's place in $4: an expression per row, cheaper than a join of every event.
const TYPE_WEIGHT = '($5::float8[])[array_position($4::text[], i.type)]';

// One row per (person, catalogue item) before asOf, and one per person with item NULL for their events outside the
// catalogue (or without an item): with each row's first event and purchases in the window ($9), the per-person
// table needs no second pass over every event. A rating is positive at or above the threshold ($3) or the
// person's own mean rating; weights are the engine's 32-bit values ($4/$5 per type, $6 a low rating's). The
// row number counts a person's catalogue cells only (the NULL row is its own partition). Types become flags
// before the sort by (person, item), which spills to disk: narrower rows, less to write.
const CELLS_SQL = `
CREATE TEMP TABLE reco_cells AS
WITH cat AS (
  SELECT id, (row_number() OVER (ORDER BY seq) - 1)::int AS item FROM products WHERE team_id = $1),
mean AS (
  SELECT user_id COLLATE "C" AS user_id, avg(value) AS m FROM interactions
   WHERE team_id = $1 AND at < $2 AND type = 'rating' AND value IS NOT NULL AND value = value
   GROUP BY 1),
ev AS (
  SELECT i.user_id COLLATE "C" AS user_id, c.item, i.seq, ${ms('i.at')} AS t, i.type = 'purchase' AS buy,
         i.type = ANY($7::text[]) AS knows, i.at >= $8 AS recent, i.at >= $9 AS in_window,
         CASE WHEN i.type = 'rating'
              THEN CASE WHEN i.value >= $3 OR i.value >= mean.m THEN ${TYPE_WEIGHT} ELSE $6::float8 END
              ELSE coalesce(${TYPE_WEIGHT}, 0) END AS w
    FROM interactions i LEFT JOIN cat c ON c.id = i.item_id
    LEFT JOIN mean ON mean.user_id = i.user_id COLLATE "C"
   WHERE i.team_id = $1 AND i.at < $2)
SELECT user_id, item, max(w) AS w, sum(w)::real::float8 AS evidence, min(t) AS first_t, max(t) AS last_t,
       min(seq) AS first_seq, count(*) FILTER (WHERE buy)::int AS buys, max(t) FILTER (WHERE buy) AS last_buy,
       count(*) FILTER (WHERE buy AND recent)::int AS recent_buys, bool_or(knows) AS known,
       count(*) FILTER (WHERE buy AND in_window)::int AS window_buys,
       row_number() OVER (PARTITION BY user_id, item IS NULL ORDER BY max(t) DESC, min(seq)) AS rn
  FROM ev GROUP BY user_id, item`;

// Everyone in the engine's order, with their positions. Exposure is the engine's: weeks of the purchase window
// (from $2) the person existed (from sign-up or first event), at least 1, as a 32-bit float. Everyone with an
// event has cells (item NULL for events outside the catalogue), so the cells give first events and purchases.
const PEOPLE_SQL = `
CREATE TEMP TABLE reco_people AS
WITH seen AS (
  SELECT user_id, min(first_seq) AS first_seq, min(first_t) AS first_t, sum(window_buys)::int AS window_buys,
         count(*) FILTER (WHERE item IS NOT NULL AND w > 0 AND rn <= $3)::int AS positive,
         bool_or(item IS NOT NULL AND w > 0) AS evident
    FROM reco_cells GROUP BY user_id),
everyone AS (
  SELECT coalesce(p.id, s.user_id) AS user_id, p.seq AS profile_seq, s.first_seq,
         least(${ms('p.created_at')}, s.first_t) AS born, coalesce(s.window_buys, 0) AS window_buys,
         coalesce(s.positive, 0) AS positive, coalesce(s.evident, false) AS evident
    FROM (SELECT id COLLATE "C" AS id, seq, created_at FROM profiles WHERE team_id = $1) p
    FULL JOIN seen s ON s.user_id = p.id),
ordered AS (
  SELECT e.*, row_number() OVER (ORDER BY e.profile_seq NULLS LAST, e.first_seq) - 1 AS user_rank
    FROM everyone e)
SELECT user_id, user_rank, positive, window_buys,
       greatest(1, ($4::float8 - greatest(born, ${ms('$2::timestamptz')})) / $5::float8)::real::float8 AS exposure,
       CASE WHEN positive >= 2
            THEN count(*) FILTER (WHERE positive >= 2) OVER (ORDER BY user_rank) - 1 ELSE -1 END AS eligible_rank,
       CASE WHEN evident
            THEN count(*) FILTER (WHERE evident) OVER (ORDER BY user_rank) - 1 ELSE -1 END AS evidence_rank
  FROM ordered`;

const PEOPLE_TOTALS_SQL = `
SELECT count(*) AS users, count(*) FILTER (WHERE eligible_rank >= 0) AS eligible,
       count(*) FILTER (WHERE evidence_rank >= 0) AS evidence,
       coalesce(sum(window_buys), 0) AS window_buys, coalesce(sum(exposure), 0) AS exposure
  FROM reco_people`;

// Per item: people with a positive truncated cell, with a target cell, with a positive cell, who bought it twice;
// recent purchases; and popularity per half-life: Σ over target cells of the decay from the last event (one
// column per decay rate, $5 on).
function itemsSql(halfLives: number): string {
  const pops = Array.from(
    { length: halfLives },
    (_, k) =>
      `coalesce(sum(exp(-$${5 + k}::float8 * greatest(0, $3::float8 - last_t))) FILTER (WHERE target), 0) AS pop${k}`,
  );
  return `
SELECT item,
       count(*) FILTER (WHERE w > 0 AND rn <= $1) AS engaged,
       count(*) FILTER (WHERE target) AS buyers,
       count(*) FILTER (WHERE w > 0) AS engagers,
       count(*) FILTER (WHERE buys > 1) AS repeaters,
       CASE WHEN $2::boolean THEN coalesce(sum(recent_buys), 0)
            ELSE count(*) FILTER (WHERE target AND last_t >= $4::float8) END AS recent,
       ${pops.join(',\n       ')}
  FROM (SELECT c.*, CASE WHEN $2::boolean THEN buys > 0 ELSE w > 0 END AS target FROM reco_cells c
         WHERE item IS NOT NULL) c
 GROUP BY item`;
}

// The cells of the model's items ($1, catalogue numbers; a constant array, which PostgreSQL hashes), in stored
// order: person, item, truncated weight (0 beyond the person's $2 most recent cells), last event, positive, target
// ($3: targets are purchases).
const PAIR_CELLS_SQL = `
SELECT c.user_id, c.item, CASE WHEN c.w > 0 AND c.rn <= $2 THEN c.w ELSE 0 END AS x, c.last_t,
       (c.w > 0)::int + 2 * (CASE WHEN $3 THEN c.buys > 0 ELSE c.w > 0 END)::int AS flags
  FROM reco_cells c
 WHERE (c.w > 0 OR c.buys > 0) AND c.item = ANY($1)`;

/**
 * Sums one person's item pairs at a time from COPY text lines (user, item, weight, last event, flags): the Gram
 * matrix of the decayed truncated weights (as the engine's gramOf: weight × 2^(−age/half-life)), and the
 * co-counts of the engine's coCounts (a positive cell on i, a target cell on j; both targets). The Gram matrix is
 * symmetric, so each person adds only the pairs a ≤ b (half the work; the lower half is copied at the end); the
 * products and the order of the additions per entry are the ones a full pass makes, so the sums are the same.
 * Exported for its test (test/store/postgres/pair-accumulator.test.ts).
 */
export class PairAccumulator {
  private user = '';
  private a: number[] = [];
  private x: number[] = [];
  private flags: number[] = [];
  private order: number[] = [];
  private readonly m: number;
  private readonly position: Int32Array;
  private readonly sums: RecommendPairSums;
  private unordered = false;

  constructor(
    items: readonly number[],
    private readonly decay: number,
    private readonly asOf: number,
    private readonly checkOrder: boolean,
  ) {
    const m = items.length;
    this.m = m;
    this.sums = {
      items: [...items],
      gram: new Float64Array(m * m),
      coBought: new Int32Array(m * m),
      coEngaged: new Int32Array(m * m),
    };
    this.position = new Int32Array(Math.max(0, ...items) + 1).fill(-1);
    items.forEach((item, k) => {
      this.position[item] = k;
    });
  }

  /** Takes the complete lines of text[0..end]. */
  lines(text: string, end: number): void {
    let from = 0;
    while (from < end) {
      const t1 = text.indexOf('\t', from);
      const t2 = text.indexOf('\t', t1 + 1);
      const t3 = text.indexOf('\t', t2 + 1);
      const t4 = text.indexOf('\t', t3 + 1);
      const nl = text.indexOf('\n', t4 + 1);
      const user = text.slice(from, t1);
      from = nl + 1;
      if (user !== this.user) {
        // Stored order is the sort of the cells' window (user_id COLLATE "C"): ids only ever grow.
        if (this.checkOrder && this.user !== '' && !(user > this.user)) this.unordered = true;
        this.flush();
        this.user = user;
      }
      if (this.unordered) continue;
      const w = Number(text.slice(t2 + 1, t3));
      const t = Number(text.slice(t3 + 1, t4));
      this.a.push(this.position[Number(text.slice(t1 + 1, t2))] as number);
      this.x.push(w > 0 && this.decay > 0 ? w * Math.exp(-this.decay * Math.max(0, this.asOf - t)) : w);
      this.flags.push(text.charCodeAt(t4 + 1) - 48);
    }
  }

  /** Adds the current person's pairs: a ≤ b of the Gram matrix, both directions of the co-counts. */
  private flush(): void {
    const { a, x, flags, m, order } = this;
    const { gram, coBought, coEngaged } = this.sums;
    const n = a.length;
    order.length = n;
    for (let k = 0; k < n; k++) order[k] = k;
    order.sort((p, q) => (a[p] as number) - (a[q] as number));
    for (let s = 0; s < n; s++) {
      const p = order[s] as number;
      const ap = a[p] as number;
      const xp = x[p] as number;
      const fp = flags[p] as number;
      if (xp > 0) gram[ap * m + ap] = (gram[ap * m + ap] as number) + xp * xp;
      for (let r = s + 1; r < n; r++) {
        const q = order[r] as number;
        const aq = a[q] as number;
        const xq = x[q] as number;
        const fq = flags[q] as number;
        const up = ap * m + aq;
        if (xp > 0 && xq > 0) gram[up] = (gram[up] as number) + xp * xq;
        if (fp & 1 && fq & 2) {
          coEngaged[up] = (coEngaged[up] as number) + 1;
          if (fp & 2) coBought[up] = (coBought[up] as number) + 1;
        }
        if (fq & 1 && fp & 2) {
          const down = aq * m + ap;
          coEngaged[down] = (coEngaged[down] as number) + 1;
          if (fq & 2) coBought[down] = (coBought[down] as number) + 1;
        }
      }
    }
    a.length = 0;
    x.length = 0;
    flags.length = 0;
  }

  /** The sums (the Gram matrix's lower half copied from the upper), or null when people came out of order. */
  finish(): RecommendPairSums | null {
    this.flush();
    if (this.unordered) return null;
    const { m } = this;
    const { gram } = this.sums;
    for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) gram[j * m + i] = gram[i * m + j] as number;
    return this.sums;
  }
}
