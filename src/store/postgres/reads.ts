/**
 * The reads of the storage interface in SQL, over a pool (a store's reads) or over the client of an open change
 * (which then sees its own writes). Every statement filters on the workspace.
 */

import type pg from 'pg';
import type {
  AttributeKind,
  AudienceCounts,
  AudienceMeta,
  Interaction,
  TimeWindow,
} from '../../domain/types.ts';
import type {
  AggregateQuery,
  AudienceReads,
  AudienceSnapshot,
  AuditReads,
  DigestReads,
  ModelReads,
  SegmentRunReads,
  StoreReads,
} from '../store.ts';
import { answerAggregate } from './aggregates.ts';
import type { Queryable } from './claims.ts';
import { pgConnectionReads } from './connections.ts';
import { openPersonFeatures, placedAssignments } from './person-features.ts';
import { pgPredictions } from './prediction-rows.ts';
import { readPseudonymOwners } from './pseudonyms.ts';
import { pgRecommendStats } from './recommend-stats.ts';
import {
  AUDIT_COLUMNS,
  DELIVERY_COLUMNS,
  INTERACTION_COLUMNS,
  MODEL_COLUMNS,
  ms,
  PRODUCT_COLUMNS,
  PROFILE_COLUMNS,
  RUN_COLUMNS,
  RUN_HEADER_COLUMNS,
  SCHEDULE_COLUMNS,
  toAudit,
  toDelivery,
  toInteraction,
  toModel,
  toProduct,
  toProfile,
  toSchedule,
  toSegmentRun,
  ts,
} from './rows.ts';

/** Runs one query and maps its rows. */
async function all<T>(db: Queryable, sql: string, params: unknown[], map: (r: Record<string, unknown>) => T) {
  const { rows } = await db.query(sql, params);
  return rows.map(map);
}

/** The meta row of a workspace (version 0 and nulls before its first change). */
export async function readMeta(db: Queryable, team: string): Promise<AudienceMeta> {
  const { rows } = await db.query(
    `SELECT data_version, ${ms('updated_at')} AS updated_at, source FROM audience_meta WHERE team_id = $1`,
    [team],
  );
  const r = rows[0] as
    | { data_version: number; updated_at: number | null; source: AudienceMeta['source'] }
    | undefined;
  return { dataVersion: r?.data_version ?? 0, updatedAt: r?.updated_at ?? null, source: r?.source ?? null };
}

/** Row counts: kept in audience_meta by every committed change, or counted inside an open change. */
async function readCounts(db: Queryable, team: string, kept: boolean): Promise<AudienceCounts> {
  if (kept) {
    // Kept by every committed change (change.ts): one primary-key read, however large the audience.
    const { rows } = await db.query(
      'SELECT profiles, products, interactions FROM audience_meta WHERE team_id = $1',
      [team],
    );
    return (rows[0] as AudienceCounts | undefined) ?? { profiles: 0, products: 0, interactions: 0 };
  }
  // Inside an open change, which must see its own writes: counted.
  const { rows } = await db.query(
    `SELECT (SELECT count(*) FROM profiles WHERE team_id = $1) AS profiles,
            (SELECT count(*) FROM products WHERE team_id = $1) AS products,
            (SELECT count(*) FROM interactions WHERE team_id = $1) AS interactions`,
    [team],
  );
  return rows[0] as AudienceCounts;
}

/** The audience reads of one workspace. */
export function audienceReads(
  db: Queryable,
  team: string,
  snapshot: () => Promise<AudienceSnapshot>,
  countsKept = false,
  /** The pool scans take their own connection from (the store's reads); null inside an open change. */
  scans: pg.Pool | null = null,
): AudienceReads {
  return {
    version: async () => (await readMeta(db, team)).dataVersion,
    meta: () => readMeta(db, team),
    counts: () => readCounts(db, team, countsKept),
    attributeKinds: () => readAttributeKinds(db, team),
    products: () => readProducts(db, team),
    profiles: (query) =>
      query?.ids === undefined
        ? readProfiles(db, team)
        : all(
            db,
            `SELECT ${PROFILE_COLUMNS} FROM profiles WHERE team_id = $1 AND id = ANY($2) ORDER BY seq`,
            [team, query.ids],
            toProfile,
          ),
    mentioned: async (ids) => {
      const { rows } = await db.query<{ id: string }>(
        `SELECT id FROM profiles WHERE team_id = $1 AND id = ANY($2)
         UNION SELECT user_id FROM interactions WHERE team_id = $1 AND user_id = ANY($2)
         UNION SELECT user_id FROM segment_assignments WHERE team_id = $1 AND user_id = ANY($2)`,
        [team, ids],
      );
      return new Set(rows.map((r) => r.id));
    },
    unknownIds: (kind, ids) => readUnknownIds(db, team, kind === 'profiles' ? 'profiles' : 'products', ids),
    storedInteractions: (interactions) => countStoredInteractions(db, team, interactions),
    interactions: (window) => readInteractions(db, team, window),
    interactionsOf: (ids) => readInteractionsOf(db, team, ids),
    recommendStats: scans ? pgRecommendStats(scans, team) : null,
    // The engine builds its view from the objects; columns straight from COPY are a later optimisation.
    interactionColumns: async () => null,
    snapshot,
    aggregate: (query: AggregateQuery) => answerAggregate(db, team, query),
    personFeatures: {
      latestInteraction: async () =>
        ((
          await db.query<{ latest: number | null }>(
            `SELECT ${ms('max(at)')} AS latest FROM interactions WHERE team_id = $1`,
            [team],
          )
        ).rows[0]?.latest as number | null | undefined) ?? null,
      open: (query) => openPersonFeatures(db, team, query),
      placed: (placement) => placedAssignments(db, team, placement),
    },
    // The store's reads only (over the pool: a fit holds a client of its own), not an open change's.
    predictions: countsKept ? pgPredictions(db as pg.Pool, team) : null,
    pseudonymOwners: (pseudonyms) => readPseudonymOwners(db, team, pseudonyms),
  };
}

/** Which of `ids` no row of `table` (profiles or products) has. */
async function readUnknownIds(db: Queryable, team: string, table: string, ids: readonly string[]) {
  const { rows } = await db.query<{ id: string }>(
    `SELECT u.id FROM unnest($2::text[]) AS u (id)
      WHERE NOT EXISTS (SELECT 1 FROM ${table} t WHERE t.team_id = $1 AND t.id = u.id)`,
    [team, ids],
  );
  return new Set(rows.map((r) => r.id));
}

/** The interactions of some people, by the user index, in data order. */
function readInteractionsOf(db: Queryable, team: string, ids: readonly string[]) {
  return all(
    db,
    `SELECT ${INTERACTION_COLUMNS} FROM interactions WHERE team_id = $1 AND user_id = ANY($2) ORDER BY seq`,
    [team, ids],
    toInteraction,
  );
}

/** Attribute kinds in the order they were first seen. */
export async function readAttributeKinds(
  db: Queryable,
  team: string,
): Promise<Record<string, AttributeKind>> {
  const { rows } = await db.query<{ name: string; kind: AttributeKind }>(
    'SELECT name, kind FROM attribute_kinds WHERE team_id = $1 ORDER BY seq',
    [team],
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.kind]));
}

function readProfiles(db: Queryable, team: string) {
  return all(
    db,
    `SELECT ${PROFILE_COLUMNS} FROM profiles WHERE team_id = $1 ORDER BY seq`,
    [team],
    toProfile,
  );
}

function readProducts(db: Queryable, team: string) {
  return all(
    db,
    `SELECT ${PRODUCT_COLUMNS} FROM products WHERE team_id = $1 ORDER BY seq`,
    [team],
    toProduct,
  );
}

function readInteractions(db: Queryable, team: string, window: TimeWindow | undefined) {
  const params: unknown[] = [team];
  let where = 'team_id = $1';
  if (window?.from !== undefined) {
    params.push(ts(window.from));
    where += ` AND at >= $${params.length}`;
  }
  if (window?.to !== undefined) {
    params.push(ts(window.to));
    where += ` AND at < $${params.length}`;
  }
  return all(
    db,
    `SELECT ${INTERACTION_COLUMNS} FROM interactions WHERE ${where} ORDER BY seq`,
    params,
    toInteraction,
  );
}

/** The whole audience of a workspace, read on `db` (a repeatable-read transaction makes it one version). */
export async function readSnapshot(db: Queryable, team: string): Promise<AudienceSnapshot> {
  // One after another: on one client the statements queue anyway, and this keeps the order obvious.
  const meta = await readMeta(db, team);
  const attributes = await readAttributeKinds(db, team);
  const profiles = await readProfiles(db, team);
  const products = await readProducts(db, team);
  const interactions = await readInteractions(db, team, undefined);
  return { version: meta.dataVersion, meta, attributes, profiles, products, interactions };
}

/** The stored segmentations of one workspace. */
function segmentRunReads(db: Queryable, team: string): SegmentRunReads {
  const runs = (where: string, tail: string, params: unknown[]) =>
    all(
      db,
      `SELECT ${RUN_COLUMNS} FROM segment_runs r WHERE r.team_id = $1 ${where} ${tail}`,
      [team, ...params],
      toSegmentRun,
    );
  return {
    latest: async () => (await runs('', 'ORDER BY r.seq DESC LIMIT 1', []))[0],
    get: async (id) => (await runs('AND r.id = $2', '', [id]))[0],
    list: () => runs('', 'ORDER BY r.seq', []),
    headers: () =>
      all(
        db,
        `SELECT ${RUN_HEADER_COLUMNS} FROM segment_runs r WHERE r.team_id = $1 ORDER BY r.seq`,
        [team],
        toSegmentRun,
      ),
    members: async (runId, label, page) => {
      const { rows } = await db.query<{ user_id: string; ord: number }>(
        `SELECT user_id, ord FROM segment_assignments
          WHERE team_id = $1 AND run_id = $2 AND label = $3 AND ord > $4 ORDER BY ord LIMIT $5`,
        [team, runId, label, page.after, page.limit],
      );
      const last = rows.at(-1);
      return {
        userIds: rows.map((r) => r.user_id),
        next: rows.length === page.limit && last ? last.ord : null,
      };
    },
    labelsOf: async (runId, ids) => {
      const { rows } = await db.query<{ user_id: string; label: number }>(
        'SELECT user_id, label FROM segment_assignments WHERE team_id = $1 AND run_id = $2 AND user_id = ANY($3)',
        [team, runId, ids],
      );
      return new Map(rows.map((r) => [r.user_id, r.label]));
    },
    count: async () =>
      ((await db.query('SELECT count(*)::int AS n FROM segment_runs WHERE team_id = $1', [team])).rows[0]
        ?.n as number | undefined) ?? 0,
  };
}

/** Every read of the interface for one workspace. */
export function storeReads(
  db: Queryable,
  team: string,
  snapshot: () => Promise<AudienceSnapshot>,
  /** Read the row counts kept in audience_meta (committed data); false inside an open change. */
  countsKept = false,
  scans: pg.Pool | null = null,
): StoreReads {
  const segmentRuns = segmentRunReads(db, team);
  const models: ModelReads = {
    get: async (key) =>
      (
        await all(
          db,
          `SELECT ${MODEL_COLUMNS} FROM models WHERE team_id = $1 AND key = $2`,
          [team, key],
          toModel,
        )
      )[0],
  };
  const schedules = (where: string, params: unknown[]) =>
    all(
      db,
      `SELECT ${SCHEDULE_COLUMNS} FROM digest_schedules WHERE team_id = $1 ${where} ORDER BY seq`,
      [team, ...params],
      toSchedule,
    );
  const deliveries = (where: string, params: unknown[]) =>
    all(
      db,
      `SELECT ${DELIVERY_COLUMNS} FROM digest_deliveries WHERE team_id = $1 ${where} ORDER BY seq`,
      [team, ...params],
      toDelivery,
    );
  const digests: DigestReads = {
    schedules: () => schedules('', []),
    schedule: async (id) => (await schedules('AND id = $2', [id]))[0],
    deliveries: () => deliveries('', []),
    delivery: async (key) => (await deliveries('AND key = $2', [key]))[0],
  };
  const audit: AuditReads = {
    entries: (query) =>
      query?.since === undefined
        ? all(db, `SELECT ${AUDIT_COLUMNS} FROM audit WHERE team_id = $1 ORDER BY seq`, [team], toAudit)
        : all(
            db,
            `SELECT ${AUDIT_COLUMNS} FROM audit WHERE team_id = $1 AND at >= $2 ORDER BY seq`,
            [team, ts(query.since)],
            toAudit,
          ),
  };
  return {
    audience: audienceReads(db, team, snapshot, countsKept, scans),
    segmentRuns,
    models,
    digests,
    audit,
    connections: pgConnectionReads(db, team),
  };
}

/** The SQL condition "an interaction like staged row `s` is stored", searching only `at` in [$2, $3]. */
export const STORED_LIKE = `EXISTS (SELECT 1 FROM interactions i
   WHERE i.team_id = $1 AND i.user_id = s.user_id AND i.at = s.at AND i.type = s.type
     AND i.item_id IS NOT DISTINCT FROM s.item_id AND i.at BETWEEN $2 AND $3)`;

/** How many of these interactions are stored (a dry run's count; the import itself stages them, change.ts). */
async function countStoredInteractions(
  db: Queryable,
  team: string,
  interactions: readonly Interaction[],
): Promise<number> {
  if (interactions.length === 0) return 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const i of interactions) {
    if (i.timestamp < min) min = i.timestamp;
    if (i.timestamp > max) max = i.timestamp;
  }
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n
       FROM unnest($4::text[], $5::text[], $6::text[], $7::timestamptz[]) AS s (user_id, item_id, type, at)
      WHERE ${STORED_LIKE}`,
    [
      team,
      ts(min),
      ts(max),
      interactions.map((i) => i.user_id),
      interactions.map((i) => i.item_id),
      interactions.map((i) => i.type),
      interactions.map((i) => ts(i.timestamp)),
    ],
  );
  return rows[0]?.n ?? 0;
}
