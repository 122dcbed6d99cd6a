/**
 * The writes of one change on PostgreSQL, all on the client of one transaction (pg-store.ts opens and commits
 * it), so a change is all or nothing and other replicas see it whole. The data version is bumped once, at the
 * end, if an audience write changed something. Merging rules are the file backend's (file-change.ts): a null
 * field keeps the stored value; repeated ids in one batch merge in order (folded here first, since one
 * INSERT … ON CONFLICT may touch a row only once).
 */
import type pg from 'pg';
import type {
  AttributeKind,
  AttributeValue,
  AuditEntry,
  CachedModel,
  ConnectionRecord,
  ContentMetric,
  DeliveryRecord,
  DigestSchedule,
  Interaction,
  PeopleRemoval,
  Product,
  ProductPatch,
  Profile,
  ProfilePatch,
  SegmentRun,
} from '../../domain/types.ts';
import type { AudienceSnapshot, InteractionIntake, StoreChange, StoreReads } from '../store.ts';
import { type Claim, closeOccurrence, finishOccurrence } from './claims.ts';
import { pgConnectionWrites } from './connections.ts';
import { copyRows, mapRows } from './copy.ts';
import { FIRST_OF_EACH, INTAKE_TABLE, type IntakeSpan, openIntake } from './intake.ts';
import { ensureMonthPartitions, monthOf, partitionName, purgeBefore } from './partitions.ts';
import { insertPlacedAssignments } from './person-features.ts';
import { STORED_LIKE, storeReads } from './reads.ts';
import { SCHEDULE_COLUMNS, toSchedule, ts } from './rows.ts';

/** Runs with at least this many assignments refresh the table's planner statistics when recorded. */
const ANALYZE_ASSIGNMENTS_AT = 10_000;

/** Bulk loads at least this large refresh the planner's statistics before they commit. */
const ANALYZE_AFTER_ROWS = 50_000;
/** `work_mem` for one bulk statement (SET LOCAL, then reset): a million staged rows sort in about 150 MB. */
const BULK_WORK_MEM = '256MB';

/**
 * For the rest of an import's transaction: no JIT compilation. The statement triggers' plans over a large
 * transition table pass its cost threshold, and each of them compiled anew for every statement (every slice of
 * profiles), for expressions evaluated once per row.
 */
const NO_JIT = 'SET LOCAL jit = off';

/** One open change of one workspace; `finish()` stamps the audience if it changed. */
export class PgChange implements StoreChange {
  readonly audience: StoreReads['audience'];
  readonly segmentRuns: StoreReads['segmentRuns'];
  readonly models: StoreReads['models'];
  readonly digests: StoreReads['digests'];
  readonly audit: StoreReads['audit'];
  readonly connections: StoreReads['connections'];
  private readonly connectionWrites: ReturnType<typeof pgConnectionWrites>;
  private audienceChanged = false;
  private source: 'sample' | 'import' | undefined;
  /**
   * Row counts kept in `audience_meta` (so `counts()` reads one row, not three tables): what this change added
   * or removed, or, after a replace, the new totals.
   */
  private readonly counted = { replaced: false, profiles: 0, products: 0, interactions: 0 };

  constructor(
    private readonly client: pg.PoolClient,
    private readonly pool: pg.Pool,
    private readonly team: string,
    private readonly now: Date,
    snapshot: () => Promise<AudienceSnapshot>,
  ) {
    const reads = storeReads(client, team, snapshot);
    this.audience = reads.audience;
    this.segmentRuns = reads.segmentRuns;
    this.models = reads.models;
    this.digests = reads.digests;
    this.audit = reads.audit;
    this.connections = reads.connections;
    this.connectionWrites = pgConnectionWrites(client, team);
  }

  /** Bumps the data version once if an audience write changed something (still inside the transaction). */
  async finish(): Promise<void> {
    if (!this.audienceChanged) return;
    const c = this.counted;
    // After a replace the counts are the new totals; otherwise they move by what this change did.
    const from = (column: string) => (c.replaced ? '0' : `m.${column}`);
    await this.client.query(
      `INSERT INTO audience_meta AS m (team_id, data_version, updated_at, source, profiles, products, interactions)
       VALUES ($1, 1, $2, $3, $4, $5, $6)
       ON CONFLICT (team_id) DO UPDATE
         SET data_version = m.data_version + 1, updated_at = $2, source = coalesce($3, m.source),
             profiles = ${from('profiles')} + $4, products = ${from('products')} + $5,
             interactions = ${from('interactions')} + $6`,
      [this.team, this.now.toISOString(), this.source ?? null, c.profiles, c.products, c.interactions],
    );
  }

  /**
   * Ends a claim this replica holds (claims.ts) in this change, so the delivery record and the end of the claim
   * commit together; false when the claim was taken over (then record nothing).
   */
  finishClaim(claim: Claim): Promise<boolean> {
    return finishOccurrence(this.client, this.team, claim);
  }

  private touched(source?: 'sample' | 'import'): void {
    this.audienceChanged = true;
    if (source !== undefined) this.source = source;
  }

  private q(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
    return this.client.query(sql, [this.team, ...params]);
  }

  async replaceAudience(audience: {
    profiles: Profile[];
    products: Product[];
    interactions: Interaction[];
    attributes: Record<string, AttributeKind>;
  }): Promise<void> {
    for (const table of [
      'profiles',
      'products',
      'interactions',
      'attribute_kinds',
      'segment_runs',
      'segment_placements',
      'models',
    ]) {
      await this.q(`DELETE FROM ${table} WHERE team_id = $1`);
    }
    await this.recordKinds(audience.attributes);
    await this.copyProfiles(audience.profiles);
    await copyRows(
      this.client,
      'products',
      ['team_id', 'id', 'name', 'category', 'price', 'in_stock'],
      audience.products.map((p) => [this.team, p.id, p.name, p.category, p.price, p.in_stock]),
    );
    await this.copyInteractions(audience.interactions);
    Object.assign(this.counted, {
      replaced: true,
      profiles: audience.profiles.length,
      products: audience.products.length,
      interactions: audience.interactions.length,
    });
    this.touched('sample');
  }

  private copyProfiles(profiles: readonly Profile[]): Promise<number> {
    const columns = [
      'team_id',
      'id',
      'platform',
      'country',
      'created_at',
      'last_active_at',
      'followers',
      'interests',
      'attrs',
    ];
    return copyRows(
      this.client,
      'profiles',
      columns,
      profiles.map((p) => [
        this.team,
        p.id,
        p.platform,
        p.country,
        ts(p.created_at),
        ts(p.last_active_at),
        p.followers,
        p.interests,
        { json: p.attrs },
      ]),
    );
  }

  private async copyInteractions(interactions: readonly Interaction[]): Promise<void> {
    if (interactions.length === 0) return;
    await this.ensurePartitions(spanOf(interactions).months);
    await copyRows(
      this.client,
      'interactions',
      ['team_id', 'user_id', 'item_id', 'type', 'value', 'at'],
      interactions.map((i) => [this.team, i.user_id, i.item_id, i.type, i.value, ts(i.timestamp)]),
    );
    await this.analyzeIfStale(interactions.length);
  }

  /**
   * After a bulk load the planner's statistics are stale until autovacuum gets to it: without them the first
   * aggregates pick nested loops over millions of rows. ANALYZE samples (about a second), so it runs when the
   * load is a real part of what the statistics describe (a tenth or more), not after every chunk of a long
   * import into a large table.
   */
  private async analyzeIfStale(added: number): Promise<void> {
    if (added >= ANALYZE_AFTER_ROWS && (await this.statsStale(added)))
      await this.client.query('ANALYZE interactions, profiles, person_activity');
  }

  /**
   * After appending events: the months they went to and `person_activity` when the load is a tenth or more of
   * those months, and the whole table (every partition and the parent's statistics) only when it is a tenth of
   * the whole. Profiles did not change. 1M events into a 1M/10M store: the whole ANALYZE took 19 s (load 12).
   */
  private async analyzeAppended(added: number, months: ReadonlySet<string>): Promise<void> {
    if (added < ANALYZE_AFTER_ROWS) return;
    if (await this.statsStale(added)) {
      await this.client.query('ANALYZE interactions, person_activity');
      return;
    }
    const names = [...months].map(partitionName);
    const { rows } = await this.client.query<{ known: number }>(
      `SELECT coalesce(sum(greatest(reltuples, 0)), 0)::float8 AS known FROM pg_class
        WHERE oid = ANY ($1::regclass[])`,
      [names],
    );
    if (added * 10 >= (rows[0]?.known ?? 0))
      await this.client.query(`ANALYZE person_activity, ${names.join(', ')}`);
  }

  /** Whether `added` rows are a tenth or more of the interactions the planner's statistics know about. */
  private async statsStale(added: number): Promise<boolean> {
    const { rows } = await this.client.query<{ known: number }>(
      `SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::float8 AS known
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'interactions'::regclass`,
    );
    return added * 10 >= (rows[0]?.known ?? 0);
  }

  /**
   * Creates the months' partitions. From another connection when this transaction holds no lock on
   * `interactions` yet (so readers are blocked only for a moment); otherwise here, since the other connection
   * would wait for this transaction, which waits for it.
   */
  private async ensurePartitions(months: ReadonlySet<string>): Promise<void> {
    const { rows } = await this.client.query(
      `SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 'interactions'::regclass`,
    );
    await ensureMonthPartitions(rows.length === 0 ? this.pool : this.client, months);
  }

  async upsertProfiles(
    patches: readonly ProfilePatch[],
    kinds: Readonly<Record<string, AttributeKind>>,
  ): Promise<{ inserted: number; updated: number }> {
    await this.recordKinds(kinds);
    if (patches.length === 0) return { inserted: 0, updated: 0 };
    await this.stageProfiles(foldById(patches, mergeProfilePatch));
    return this.mergeStaged(
      'staged_profiles',
      `UPDATE profiles p SET
         platform = coalesce(s.platform, p.platform), country = coalesce(s.country, p.country),
         created_at = coalesce(s.created_at, p.created_at),
         last_active_at = coalesce(s.last_active_at, p.last_active_at),
         followers = coalesce(s.followers, p.followers), interests = coalesce(s.interests, p.interests),
         -- A value replaces, a null lands only where the key was absent (an empty cell never erases).
         attrs = p.attrs || jsonb_strip_nulls(coalesce(s.attrs, '{}'))
           || coalesce((SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(coalesce(s.attrs, '{}')) e
                         WHERE e.value = 'null'::jsonb AND NOT p.attrs ? e.key), '{}')
         FROM staged_profiles s WHERE p.team_id = $1 AND p.id = s.id`,
      `INSERT INTO profiles (team_id, id, platform, country, created_at, last_active_at, followers, interests, attrs)
       SELECT $1, s.id, s.platform, s.country, s.created_at, s.last_active_at, s.followers,
              coalesce(s.interests, '{}'), coalesce(s.attrs, '{}')
         FROM staged_profiles s
        WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.team_id = $1 AND p.id = s.id)
        ORDER BY s.ord`,
    );
  }

  /**
   * Updates the stored rows a staged table names, inserts the others (in file order), drops the staged table.
   * Changes serialize per workspace (pg-store.ts), so nothing can insert between the update and the insert.
   */
  private async mergeStaged(
    staged: string,
    update: string,
    insert: string,
  ): Promise<{ inserted: number; updated: number }> {
    // A slice is small next to the stored rows, but the planner's statistics lag behind a bulk load (in this
    // very transaction too): it would hash, or walk, every stored row for each slice. Probe the key instead.
    await this.client.query('SET LOCAL enable_hashjoin = off');
    await this.client.query('SET LOCAL enable_mergejoin = off');
    await this.client.query(NO_JIT);
    const updated = await this.q(update);
    const inserted = await this.q(insert);
    await this.client.query('SET LOCAL enable_hashjoin = on');
    await this.client.query('SET LOCAL enable_mergejoin = on');
    await this.client.query(`DROP TABLE ${staged}`);
    this.counted[staged === 'staged_profiles' ? 'profiles' : 'products'] += inserted.rowCount ?? 0;
    this.touched('import');
    return { inserted: inserted.rowCount ?? 0, updated: updated.rowCount ?? 0 };
  }

  /** COPYs folded patches into a temporary table (dropped at commit at the latest). */
  private async stageProfiles(folded: readonly ProfilePatch[]): Promise<void> {
    await this.client.query(
      // No index: ids are unique already (folded), and without one the only plan is to probe profiles' key.
      `CREATE TEMP TABLE staged_profiles (ord int, id text, platform text, country text,
         created_at timestamptz, last_active_at timestamptz, followers bigint, interests text[], attrs jsonb)
       ON COMMIT DROP`,
    );
    await copyRows(
      this.client,
      'staged_profiles',
      ['ord', 'id', 'platform', 'country', 'created_at', 'last_active_at', 'followers', 'interests', 'attrs'],
      mapRows(folded, (p, ord) => [
        ord,
        p.id,
        p.platform,
        p.country,
        ts(p.created_at),
        ts(p.last_active_at),
        p.followers,
        p.interests ?? null,
        p.attrs ? { json: p.attrs } : null,
      ]),
    );
  }

  private async recordKinds(kinds: Readonly<Record<string, AttributeKind>>): Promise<void> {
    const names = Object.keys(kinds);
    if (names.length === 0) return;
    await this.q(
      `INSERT INTO attribute_kinds (team_id, name, kind, seq)
       SELECT $1, name, kind, nextval('audience_row_seq') FROM unnest($2::text[], $3::text[]) AS t(name, kind)
       ON CONFLICT (team_id, name) DO UPDATE SET kind = EXCLUDED.kind`,
      [names, names.map((n) => kinds[n])],
    );
  }

  async upsertProducts(patches: readonly ProductPatch[]): Promise<{ inserted: number; updated: number }> {
    if (patches.length === 0) return { inserted: 0, updated: 0 };
    const folded = foldById(patches, (a, b) => ({ ...a, ...withoutNulls(b) }));
    await this.client.query(
      `CREATE TEMP TABLE staged_products (ord int, id text, name text, category text,
         price double precision, in_stock boolean) ON COMMIT DROP`,
    );
    await copyRows(
      this.client,
      'staged_products',
      ['ord', 'id', 'name', 'category', 'price', 'in_stock'],
      folded.map((p, ord) => [ord, p.id, p.name, p.category, p.price, p.in_stock]),
    );
    // A new product without a name or category gets neutral defaults (the file backend's rule).
    return this.mergeStaged(
      'staged_products',
      `UPDATE products p SET name = coalesce(s.name, p.name), category = coalesce(s.category, p.category),
         price = coalesce(s.price, p.price), in_stock = coalesce(s.in_stock, p.in_stock)
         FROM staged_products s WHERE p.team_id = $1 AND p.id = s.id`,
      `INSERT INTO products (team_id, id, name, category, price, in_stock)
       SELECT $1, s.id, coalesce(s.name, s.id), coalesce(s.category, 'uncategorized'), coalesce(s.price, 0),
              coalesce(s.in_stock, true)
         FROM staged_products s
        WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.team_id = $1 AND p.id = s.id)
        ORDER BY s.ord`,
    );
  }

  async appendInteractions(
    interactions: readonly Interaction[],
    options: { skipStored?: boolean } = {},
  ): Promise<number> {
    let appended = interactions.length;
    if (options.skipStored) appended = await this.appendNew(interactions);
    else await this.copyInteractions(interactions);
    this.counted.interactions += appended;
    if (appended > 0) this.touched('import');
    return appended;
  }

  /** An intake streaming an import's interactions into this change as its file is read (intake.ts). */
  interactionIntake(): Promise<InteractionIntake> {
    return openIntake({
      client: this.client,
      team: this.team,
      insertStaged: async (span, dedupe) => {
        const appended = await this.insertStaged(span, dedupe);
        this.counted.interactions += appended;
        if (appended > 0) this.touched('import');
        return appended;
      },
    });
  }

  /**
   * Appends the interactions not stored yet: COPY into a temporary table (no WAL, no index), then one
   * INSERT … SELECT of the rows that have no stored twin, in the given order. Stored twins are looked for only
   * between the rows' first and last instant, so only those months' partitions are searched.
   */
  private async appendNew(interactions: readonly Interaction[]): Promise<number> {
    if (interactions.length === 0) return 0;
    const span = spanOf(interactions);
    await this.client.query(
      `CREATE TEMP TABLE ${INTAKE_TABLE} (ord int, user_id text, item_id text, type text, value float8,
         at timestamptz) ON COMMIT DROP`,
    );
    await copyRows(
      this.client,
      INTAKE_TABLE,
      ['ord', 'user_id', 'item_id', 'type', 'value', 'at'],
      mapRows(interactions, (i, ord) => [ord, i.user_id, i.item_id, i.type, i.value, ts(i.timestamp)]),
    );
    // Its size and spread, so the planner picks a hash join for a large file and index probes for a small one.
    await this.client.query(`ANALYZE ${INTAKE_TABLE}`);
    return this.insertStaged(span, false);
  }

  /**
   * The one INSERT … SELECT of the staged rows (INTAKE_TABLE, analyzed) without a stored twin, and with `dedupe`
   * only the first of rows repeated among them; then the staged table is dropped and the statistics refreshed.
   */
  private async insertStaged(span: IntakeSpan, dedupe: boolean): Promise<number> {
    await this.ensurePartitions(span.months);
    // The sorts and the hash of stored twins below (and the rollup triggers' GROUP BY) of a large file in memory,
    // for this statement only: with the default 4 MB they spill to disk in batches.
    await this.client.query(`SET LOCAL work_mem = '${BULK_WORK_MEM}'`);
    await this.client.query(NO_JIT);
    // The data order (seq) is the file's: numbered in file order (a volatile nextval is evaluated after the
    // inner ORDER BY), then written by time (so by month, as months are ranges of time: sorting on
    // date_trunc('month', …) first gave the same order in twice the time, 1.8 s vs 0.9 s for 790k rows), so each
    // partition's time index is filled in runs of neighbouring keys; the person index, deduplicated and smaller,
    // takes the scattered entries. 1M events into a 1M/10M store: pages dirtied 334k-390k when written by month and person, 44k by
    // month and time (load 9-12).
    const { rowCount } = await this.q(
      `INSERT INTO interactions (team_id, seq, user_id, item_id, type, value, at)
       SELECT $1, x.seq, x.user_id, x.item_id, x.type, x.value, x.at
         FROM (SELECT s.user_id, s.item_id, s.type, s.value, s.at, nextval('audience_row_seq') AS seq
                 FROM ${INTAKE_TABLE} s ${dedupe ? FIRST_OF_EACH : ''}
                WHERE NOT ${STORED_LIKE} ORDER BY s.ord) AS x
        ORDER BY x.at`,
      [ts(span.min), ts(span.max)],
    );
    await this.client.query('RESET work_mem');
    await this.client.query(`DROP TABLE ${INTAKE_TABLE}`);
    await this.analyzeAppended(rowCount ?? 0, span.months);
    return rowCount ?? 0;
  }

  async removePeople(ids: ReadonlySet<string>): Promise<PeopleRemoval> {
    const report: PeopleRemoval = { profiles: 0, interactions: 0, segmentAssignments: 0, segmentRuns: 0 };
    if (ids.size === 0) return report;
    const list = [...ids];
    report.profiles =
      (await this.q('DELETE FROM profiles WHERE team_id = $1 AND id = ANY($2)', [list])).rowCount ?? 0;
    report.interactions =
      (await this.q('DELETE FROM interactions WHERE team_id = $1 AND user_id = ANY($2)', [list])).rowCount ??
      0;
    const { rows } = await this.q(
      `WITH gone AS (DELETE FROM segment_assignments WHERE team_id = $1 AND user_id = ANY($2) RETURNING run_id, label)
       SELECT run_id, label, count(*)::int AS n FROM gone GROUP BY run_id, label`,
      [list],
    );
    // A placement kept for a run not recorded yet would bring them back when it is.
    await this.q('DELETE FROM segment_placements WHERE team_id = $1 AND user_id = ANY($2)', [list]);
    const byRun = new Map<string, Array<{ label: number; n: number }>>();
    for (const r of rows) byRun.set(r.run_id, [...(byRun.get(r.run_id) ?? []), { label: r.label, n: r.n }]);
    for (const [runId, removed] of byRun) {
      const { rows: found } = await this.q('SELECT sizes FROM segment_runs WHERE team_id = $1 AND id = $2', [
        runId,
      ]);
      const sizes = (found[0]?.sizes as number[] | undefined)?.slice() ?? [];
      for (const { label, n } of removed) {
        if (sizes[label] !== undefined) sizes[label] = Math.max(0, (sizes[label] as number) - n);
        report.segmentAssignments += n;
      }
      await this.q('UPDATE segment_runs SET sizes = $3 WHERE team_id = $1 AND id = $2', [runId, sizes]);
      report.segmentRuns++;
    }
    this.counted.profiles -= report.profiles;
    this.counted.interactions -= report.interactions;
    if (report.profiles + report.interactions + report.segmentAssignments > 0) this.touched();
    return report;
  }

  async removeInteractionsBefore(cutoff: number): Promise<number> {
    const { deleted } = await purgeBefore(this.client, this.team, cutoff);
    this.counted.interactions -= deleted;
    if (deleted > 0) this.touched();
    return deleted;
  }

  async addSegmentRun(run: SegmentRun, keep: number): Promise<void> {
    await this.q(
      `INSERT INTO segment_runs (team_id, id, created_at, data_version, k, features, scaling, names, sizes, centroids,
         request, is_default)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        run.id,
        ts(run.created_at),
        run.data_version,
        run.k,
        run.features,
        run.scaling,
        run.names,
        run.sizes,
        JSON.stringify(run.centroids),
        run.request === undefined ? null : JSON.stringify(run.request),
        run.default ?? null,
      ],
    );
    if (run.placement && run.user_ids.length === 0) {
      // Placed in SQL (person-features.ts): the assignments never pass through the app.
      await insertPlacedAssignments(this.client, this.team, run.id, run.placement);
    } else {
      await this.q(
        `INSERT INTO segment_assignments (team_id, run_id, ord, user_id, label)
         SELECT $1, $2, ord - 1, user_id, label FROM unnest($3::text[], $4::int[]) WITH ORDINALITY AS t(user_id, label, ord)`,
        [run.id, run.user_ids, run.labels],
      );
    }
    await this.q(
      `DELETE FROM segment_runs WHERE team_id = $1 AND id IN
         (SELECT id FROM segment_runs WHERE team_id = $1 ORDER BY seq DESC OFFSET $2)`,
      [Math.max(0, keep)],
    );
    // A large run written in one statement leaves the planner believing the run has a row or two, so one
    // person's label (`labelsOf`, every `recommend user=`) read the whole run by primary key: 48 ms p50 at 100k.
    if (run.sizes.reduce((a, b) => a + b, 0) >= ANALYZE_ASSIGNMENTS_AT)
      await this.client.query('ANALYZE segment_assignments');
  }

  async putModel(entry: CachedModel, keep: number): Promise<void> {
    await this.q('DELETE FROM models WHERE team_id = $1 AND kind = $2 AND key <> $3 AND data_version <> $4', [
      entry.kind,
      entry.key,
      entry.data_version,
    ]);
    // Of this version, keep the newest keep - 1 others (the file backend's rule).
    await this.q(
      `DELETE FROM models WHERE team_id = $1 AND key IN (
         SELECT key FROM models WHERE team_id = $1 AND kind = $2 AND key <> $3
          ORDER BY created_at DESC, key DESC OFFSET greatest(0, $4::int - 1))`,
      [entry.kind, entry.key, keep],
    );
    await this.q(
      `INSERT INTO models (team_id, key, kind, data_version, created_at, model) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (team_id, key) DO UPDATE SET kind = EXCLUDED.kind, data_version = EXCLUDED.data_version,
         created_at = EXCLUDED.created_at, model = EXCLUDED.model`,
      [entry.key, entry.kind, entry.data_version, ts(entry.created_at), JSON.stringify(entry.model)],
    );
  }

  async clearModels(): Promise<number> {
    return (await this.q('DELETE FROM models WHERE team_id = $1')).rowCount ?? 0;
  }

  async addSchedule(s: DigestSchedule): Promise<void> {
    await this.q(
      `INSERT INTO digest_schedules (team_id, id, channel_id, owner_id, cadence, weekdays, local_time, time_zone,
         paused, last_error, created_at, options) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        s.id,
        s.channel_id,
        s.owner_id,
        s.cadence,
        s.weekdays,
        s.local_time,
        s.time_zone,
        s.paused,
        s.last_error,
        ts(s.created_at),
        JSON.stringify(s.options),
      ],
    );
  }

  async updateSchedule(
    id: string,
    patch: Partial<Omit<DigestSchedule, 'id'>>,
  ): Promise<DigestSchedule | undefined> {
    const sets: string[] = [];
    const params: unknown[] = [id];
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined || !SCHEDULE_FIELDS.has(field)) continue;
      params.push(
        field === 'created_at' ? ts(value as number) : field === 'options' ? JSON.stringify(value) : value,
      );
      sets.push(`${field} = $${params.length + 1}`);
    }
    const sql =
      sets.length === 0
        ? `SELECT ${SCHEDULE_COLUMNS} FROM digest_schedules WHERE team_id = $1 AND id = $2`
        : `UPDATE digest_schedules SET ${sets.join(', ')} WHERE team_id = $1 AND id = $2 RETURNING ${SCHEDULE_COLUMNS}`;
    const { rows } = await this.q(sql, params);
    return rows[0] ? toSchedule(rows[0]) : undefined;
  }

  async removeSchedule(id: string): Promise<boolean> {
    return (
      ((await this.q('DELETE FROM digest_schedules WHERE team_id = $1 AND id = $2', [id])).rowCount ?? 0) > 0
    );
  }

  async putDelivery(record: DeliveryRecord): Promise<void> {
    await this.q(
      `INSERT INTO digest_deliveries (team_id, key, schedule_id, status, at, detail) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (team_id, key) DO UPDATE SET schedule_id = EXCLUDED.schedule_id, status = EXCLUDED.status,
         at = EXCLUDED.at, detail = EXCLUDED.detail`,
      [record.key, record.schedule_id, record.status, ts(record.at), record.detail],
    );
    // A final record ends the occurrence's claim in this transaction: nobody takes it over after this commits.
    if (record.status !== 'started') await closeOccurrence(this.client, this.team, record.key);
  }

  async pruneDeliveries(before: number, max: number): Promise<void> {
    await this.q('DELETE FROM digest_deliveries WHERE team_id = $1 AND at < $2', [ts(before)]);
    await this.q(
      `DELETE FROM digest_deliveries WHERE team_id = $1 AND key IN
         (SELECT key FROM digest_deliveries WHERE team_id = $1 ORDER BY seq DESC OFFSET $2)`,
      [Math.max(0, max)],
    );
  }

  async redactDeliveries(matches: (detail: string) => boolean): Promise<number> {
    // The test is a function of the app's: the (few, kept short) details are read and matched here.
    const { rows } = await this.q(
      'SELECT key, detail FROM digest_deliveries WHERE team_id = $1 AND detail IS NOT NULL',
    );
    const keys = rows.filter((r) => matches(r.detail)).map((r) => r.key as string);
    if (keys.length > 0)
      await this.q('UPDATE digest_deliveries SET detail = NULL WHERE team_id = $1 AND key = ANY($2)', [keys]);
    return keys.length;
  }

  async appendAudit(entry: AuditEntry, keep: number): Promise<void> {
    await this.q('INSERT INTO audit (team_id, at, actor, action, detail) VALUES ($1, $2, $3, $4, $5)', [
      ts(entry.at),
      entry.actor,
      entry.action,
      entry.detail,
    ]);
    await this.q(
      `DELETE FROM audit WHERE team_id = $1 AND seq IN
         (SELECT seq FROM audit WHERE team_id = $1 ORDER BY seq DESC OFFSET $2)`,
      [Math.max(0, keep)],
    );
  }

  async redactAudit(matches: (detail: string) => boolean, replacement: string): Promise<number> {
    const { rows } = await this.q('SELECT seq, detail FROM audit WHERE team_id = $1');
    const seqs = rows.filter((r) => matches(r.detail)).map((r) => r.seq as number);
    if (seqs.length > 0)
      await this.q('UPDATE audit SET detail = $3 WHERE team_id = $1 AND seq = ANY($2)', [seqs, replacement]);
    return seqs.length;
  }
  async putConnection(record: ConnectionRecord): Promise<void> {
    await this.connectionWrites.put(record);
  }

  async updateConnection(
    id: string,
    patch: Partial<Omit<ConnectionRecord, 'id'>>,
  ): Promise<ConnectionRecord | undefined> {
    return this.connectionWrites.update(id, patch);
  }

  async removeConnection(id: string): Promise<boolean> {
    return this.connectionWrites.remove(id);
  }

  async addSyncedKeys(id: string, keys: readonly string[]): Promise<void> {
    await this.connectionWrites.addKeys(id, keys);
  }

  async clearSyncedKeys(space: string): Promise<void> {
    await this.connectionWrites.clearKeys(space);
  }

  async putMetrics(metrics: readonly ContentMetric[]): Promise<void> {
    await this.connectionWrites.putMetrics(metrics);
  }
}

const SCHEDULE_FIELDS = new Set([
  'channel_id',
  'owner_id',
  'cadence',
  'weekdays',
  'local_time',
  'time_zone',
  'paused',
  'last_error',
  'created_at',
  'options',
]);

/** The instants and months a set of interactions covers. */
function spanOf(interactions: readonly Interaction[]): IntakeSpan {
  const months = new Set<string>();
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const i of interactions) {
    months.add(monthOf(i.timestamp));
    if (i.timestamp < min) min = i.timestamp;
    if (i.timestamp > max) max = i.timestamp;
  }
  return { min, max, months };
}

/** Folds repeated ids into one patch each, in order of first appearance, with `merge(earlier, later)`. */
function foldById<T extends { id: string }>(patches: readonly T[], merge: (a: T, b: T) => T): T[] {
  const byId = new Map<string, T>();
  for (const p of patches) {
    const earlier = byId.get(p.id);
    byId.set(p.id, earlier ? merge(earlier, p) : p);
  }
  return [...byId.values()];
}

function withoutNulls<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(patch).filter(([, v]) => v !== null && v !== undefined),
  ) as Partial<T>;
}

/** Two patches of one profile as one: later values win, attrs merge key by key (a null never erases). */
function mergeProfilePatch(a: ProfilePatch, b: ProfilePatch): ProfilePatch {
  const merged: ProfilePatch = { ...a, ...withoutNulls(b) };
  if (a.attrs || b.attrs) {
    const attrs: Record<string, AttributeValue> = { ...(a.attrs ?? {}) };
    for (const [name, value] of Object.entries(b.attrs ?? {})) {
      if (value !== null || !Object.hasOwn(attrs, name)) attrs[name] = value;
    }
    merged.attrs = attrs;
  }
  return merged;
}
