/**
 * Segments where the data lives (issue #14): PostgreSQL computes everyone's features in SQL, the app fits on a
 * sample and PostgreSQL places everyone and writes the assignments. On the same data both backends give the same
 * segments. Below the fit sample size the sample is everyone, so the fits are the same computation; the only
 * differences left are in the last bits of sums taken in another order (SQL's avg and stddev, purchase amounts
 * summed per person in another order), which can move a person lying on the border between two segments. Hence
 * the tolerance: adjusted Rand index ≥ 0.95 between the two assignments and every size within 1% of the
 * audience (in practice they are equal).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { computeDigestContent } from '../../../src/digest/content.ts';
import type { HeldFeatureScan, PersonFeatureSource } from '../../../src/domain/segment-scan.ts';
import type { SegmentRunRequest } from '../../../src/domain/types.ts';
import { computeFeatures, DEFAULT_SEGMENT_FEATURES } from '../../../src/engine/features.ts';
import { segmentMembersFor } from '../../../src/queries/results.ts';
import {
  DEFAULT_SEGMENT_REQUEST,
  saveDefaultSegmentation,
  segmentationFor,
} from '../../../src/queries/segmentation.ts';
import { segmentInStore } from '../../../src/queries/segments-in-store.ts';
import { generateSample } from '../../../src/sample/generate.ts';
import { openPgStore, type PgStore } from '../../../src/store/postgres/pg-store.ts';
import { type FileStore, openStore } from '../../../src/store/store.ts';
import { adjustedRandIndex } from '../../support/clustering.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';

const END = new Date(Date.UTC(2026, 2, 2, 9));
const DAY = 86_400_000;
const PROFILES = 1_500;
/** Every feature the SQL computes (the defaults and the other built-in rates, counts and profile fields). */
const SQL_FEATURES = [
  ...new Set([
    ...DEFAULT_SEGMENT_FEATURES,
    'engagement',
    'clicks_per_week',
    'followers',
    'likes_per_week',
    'shares_per_week',
    'comments_per_week',
    'engagement_rate',
    'recency_days',
    'frequency',
    'monetary',
    'tenure_days',
  ]),
];

/** The same audience for both backends, with gaps: unknown followers and sign-up dates, a later profile. */
function audience() {
  const sample = generateSample({ profiles: PROFILES, seed: 21, end: END });
  for (const p of sample.profiles.slice(0, 90)) p.followers = null;
  for (const p of sample.profiles.slice(60, 160)) p.created_at = null;
  const late = sample.profiles[200];
  if (late) late.created_at = END.getTime() + DAY;
  const bought = sample.interactions.filter((i) => i.type === 'purchase');
  for (const i of bought.slice(-40)) i.value = null;
  // A stranger's events (no profile) count for nobody, but do move the data's first event.
  sample.interactions.push({
    user_id: 'stranger',
    item_id: null,
    type: 'view',
    value: null,
    timestamp: Math.min(...sample.interactions.map((i) => i.timestamp)) - 3 * DAY,
  });
  return sample;
}

describePostgres('segments in SQL equal the engine on the same data', () => {
  const db = usePostgresSchema('segments');
  let pgStore: PgStore;
  let fileStore: FileStore;
  let dir: string;
  let source: PersonFeatureSource;
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: db.url, max: 1, options: `-c search_path=${db.schema}` });
    pgStore = await openPgStore({
      url: db.url,
      schema: db.schema,
      teamId: 'TSEGS',
      onNotice: () => undefined,
    });
    await pgStore.change((tx) => tx.replaceAudience(audience()));
    dir = await mkdtemp(join(tmpdir(), 'audience-segments-'));
    fileStore = await openStore({
      file: join(dir, 'audience.db'),
      flushDelayMs: 10,
      onNotice: () => undefined,
    });
    await fileStore.change((tx) => tx.replaceAudience(audience()));
    source = pgStore.audience.personFeatures as PersonFeatureSource;
  });
  afterAll(async () => {
    await pool?.end();
    await pgStore?.close();
    await fileStore?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const asOf = async () => ((await source.latestInteraction()) as number) + 1;
  const keptRows = async (key: string) =>
    (
      await pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM segment_placements WHERE placement = $1',
        [key],
      )
    ).rows[0]?.n;
  const countsOf = (labels: readonly number[], k: number) => {
    const counts = Array.from({ length: k }, () => 0);
    for (const l of labels) counts[l] = (counts[l] ?? 0) + 1;
    return counts;
  };

  async function withScan<T>(features: string[], use: (scan: HeldFeatureScan) => Promise<T>): Promise<T> {
    const scan = await source.open({ features, asOf: await asOf() });
    if (!scan) throw new Error('expected a scan');
    try {
      return await use(scan);
    } finally {
      await scan.release();
    }
  }

  it('computes every SQL feature as computeFeatures does, for the people who existed then', async () => {
    expect(pgStore.audience.personFeatures).not.toBeNull();
    expect(fileStore.audience.personFeatures).toBeNull();
    const at = await asOf();
    const engine = computeFeatures(fileStore.data, SQL_FEATURES, { asOf: at, existingOnly: true });
    const rows = await withScan(SQL_FEATURES, async (scan) => {
      expect(scan.n).toBe(engine.userIds.length);
      scan.columns.forEach((c) => {
        expect(c.missing, c.name).toBe(engine.missing[c.name]);
      });
      return scan.sample(PROFILES + 1, 1);
    });
    expect(rows.userIds).toEqual(engine.userIds);
    expect(engine.userIds).not.toContain('stranger');
    SQL_FEATURES.forEach((name, j) => {
      const sql = rows.columns[j] as Float64Array;
      const want = engine.columns[j] as Float64Array;
      for (let i = 0; i < want.length; i++) {
        const w = want[i] as number;
        const v = sql[i] as number;
        if (Number.isNaN(w)) expect(v, `${name} of ${engine.userIds[i]}`).toBeNaN();
        else
          expect(Math.abs(v - w), `${name} of ${engine.userIds[i]}`).toBeLessThanOrEqual(
            1e-9 * Math.max(1, Math.abs(w)),
          );
      }
    });
  });

  it('leaves features it has no SQL for (attributes, interests, categories) to the snapshot', async () => {
    expect(await source.open({ features: ['interest:food', 'monetary'], asOf: await asOf() })).toBeNull();
  });

  it('draws the same seeded sample for the same seed, and another for another seed', async () => {
    const ids = (seed: number) =>
      withScan(['monetary'], async (scan) => (await scan.sample(300, seed)).userIds);
    const a = await ids(7);
    expect(a).toHaveLength(300);
    expect(await ids(7)).toEqual(a);
    expect(await ids(8)).not.toEqual(a);
  });

  const requests: Array<[string, SegmentRunRequest]> = [
    ['k=auto, default features', { ...DEFAULT_SEGMENT_REQUEST }],
    ['k=4', { ...DEFAULT_SEGMENT_REQUEST, k: 4 }],
    [
      'k=3, log-zscore, other features',
      {
        ...DEFAULT_SEGMENT_REQUEST,
        k: 3,
        scaling: 'log-zscore',
        features: ['recency_days', 'frequency', 'monetary', 'tenure_days'],
      },
    ],
  ];
  it.each(requests)('%s: the same segments and assignments on both backends', async (_, request) => {
    const now = END.getTime();
    const file = await segmentationFor(fileStore, request, now, 'USD');
    const pg = await segmentationFor(pgStore, request, now, 'USD');
    // The PostgreSQL run was placed in SQL: no assignment passed through the app.
    expect(pg.result.userIds).toHaveLength(0);
    expect(pg.result.placement).toBeDefined();
    expect(pg.result.total).toBe(file.result.total);
    expect(pg.result.k).toBe(file.result.k);
    expect(pg.result.features).toEqual(file.result.features);
    const n = file.result.total;
    pg.result.segments.forEach((s, c) => {
      expect(Math.abs(s.size - (file.result.segments[c]?.size ?? 0))).toBeLessThanOrEqual(0.01 * n);
    });
    const stored = await pgStore.segmentRuns.get(pg.run.id);
    expect(stored?.user_ids).toEqual(file.run.user_ids);
    expect(stored?.sizes).toEqual(pg.run.sizes);
    // Recorded from the pass that summed the reply (its kept placement, then dropped): the stored labels count
    // exactly the reply's sizes.
    const kept = pg.result.placement?.kept as string;
    expect(kept).toBeDefined();
    expect(await keptRows(kept)).toBe(0);
    expect(countsOf(stored?.labels ?? [], pg.result.k)).toEqual(pg.result.segments.map((s) => s.size));
    expect(adjustedRandIndex(stored?.labels ?? [], file.run.labels)).toBeGreaterThanOrEqual(0.95);
    expect(pg.result.segments.map((s) => s.name)).toEqual(file.result.segments.map((s) => s.name));
    pg.result.segments.forEach((s, c) => {
      const f = file.result.segments[c];
      expect(s.revenueShare).toBeCloseTo(f?.revenueShare ?? Number.NaN, 2);
      expect(s.traits.map((t) => t.text)).toEqual(f?.traits.map((t) => t.text));
    });
    expect(pg.result.quality.betweenOverTotal).toBeCloseTo(file.result.quality.betweenOverTotal, 3);
  });

  it('fits on a seeded sample of people when the audience is larger than the fit sample', async () => {
    const request: SegmentRunRequest = { ...DEFAULT_SEGMENT_REQUEST, k: 4 };
    const at = await asOf();
    const a = await segmentInStore(source, request, at, undefined, 500);
    const b = await segmentInStore(source, request, at, undefined, 500);
    expect(a?.sampled).toEqual({ fitted: 500, total: a?.total });
    expect(b?.segments).toEqual(a?.segments);
    const file = await segmentationFor(fileStore, request, END.getTime());
    const placed = await source.placed(a?.placement as NonNullable<typeof a>['placement'] & object);
    expect(placed.userIds).toEqual(file.run.user_ids);
    // Fitted on a third of the audience, the segments are still the planted personas the full fit finds.
    expect(adjustedRandIndex(placed.labels, file.run.labels)).toBeGreaterThanOrEqual(0.9);
  });

  it("keeps everyone's centre from the summing pass, and places everyone again when that is gone", async () => {
    const request: SegmentRunRequest = { ...DEFAULT_SEGMENT_REQUEST, k: 4 };
    const result = await segmentInStore(source, request, await asOf(), undefined);
    const placement = result?.placement as NonNullable<NonNullable<typeof result>['placement']>;
    expect(await keptRows(placement.kept as string)).toBe(result?.total);
    const fromKept = await source.placed(placement);
    const { kept: _kept, ...withoutKept } = placement;
    const placedAgain = await source.placed(withoutKept);
    expect(fromKept).toEqual(placedAgain);
    expect(countsOf(fromKept.labels, 4)).toEqual(result?.segments.map((s) => s.size));
    const file = await segmentationFor(fileStore, request, END.getTime());
    expect(fromKept.userIds).toEqual(file.run.user_ids);
    // A placement no longer kept (a crash emptied the unlogged table, or it grew stale) is placed again.
    const run = {
      id: 'gone-placement',
      created_at: END.getTime(),
      data_version: await pgStore.audience.version(),
      k: 4,
      features: result?.features ?? [],
      scaling: request.scaling,
      names: result?.segments.map((s) => s.name) ?? [],
      sizes: result?.segments.map((s) => s.size) ?? [],
      centroids: result?.segments.map((s) => s.centroid) ?? [],
      user_ids: [],
      labels: [],
      placement: { ...placement, kept: 'no-such-placement' },
    };
    await pgStore.change((tx) => tx.addSegmentRun(run, 100), { wait: 'applied' });
    const stored = await pgStore.segmentRuns.get('gone-placement');
    expect(stored?.user_ids).toEqual(fromKept.userIds);
    expect(stored?.labels).toEqual(fromKept.labels);
  });

  it('drops a recorded placement row by row while another session uses the table', async () => {
    // Recording truncates the placements when they are its own alone; a session holding the table (here a
    // reader's lock) makes the exclusive lock unavailable, and the rows are deleted instead.
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE segment_placements IN ACCESS SHARE MODE');
      const request: SegmentRunRequest = { ...DEFAULT_SEGMENT_REQUEST, k: 3 };
      const { result, run } = await segmentationFor(pgStore, request, END.getTime());
      const kept = result.placement?.kept as string;
      const left = await holder.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM segment_placements WHERE placement = $1',
        [kept],
      );
      expect(left.rows[0]?.n).toBe(0);
      const stored = await pgStore.segmentRuns.get(run.id);
      expect(countsOf(stored?.labels ?? [], 3)).toEqual(result.segments.map((s) => s.size));
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });

  it("keeps the digest and a segment's members working on PostgreSQL", async () => {
    const now = END.getTime();
    const options = { predictions: false, recommendations: false, k: 4 as const, chart: false };
    const content = await computeDigestContent(pgStore, options, { currency: 'USD', minCohortSize: 10, now });
    expect(content.segments).toHaveLength(4);
    const total = content.segments.reduce((a, s) => a + s.size, 0);
    expect(total).toBe(PROFILES - 1);
    expect(content.segments.reduce((a, s) => a + s.share, 0)).toBeCloseTo(1, 9);
    const { run } = await segmentationFor(pgStore, { ...DEFAULT_SEGMENT_REQUEST, k: 4 }, now);
    const stored = await pgStore.segmentRuns.get(run.id);
    const members = await segmentMembersFor(pgStore, stored ?? run, 1);
    expect(members).toHaveLength(run.sizes[1] as number);
  });

  it('answers a repeated request from the stored run, and saving it as the default keeps everyone', async () => {
    const now = END.getTime();
    const request = { ...DEFAULT_SEGMENT_REQUEST, k: 3 as const, seed: 11 };
    const first = await segmentationFor(pgStore, request, now);
    const again = await segmentationFor(pgStore, request, now + 60_000);
    expect(again.cached).toBe(true);
    expect(again.run.id).toBe(first.run.id);
    expect(again.result.segments.map((s) => s.size)).toEqual(first.result.segments.map((s) => s.size));
    const saved = await saveDefaultSegmentation(pgStore, request, now + 120_000);
    expect(saved.run.id).toBe(`${first.run.id}-default`);
    const [adHoc, asDefault] = await Promise.all([
      pgStore.segmentRuns.get(first.run.id),
      pgStore.segmentRuns.get(saved.run.id),
    ]);
    expect(asDefault?.user_ids).toHaveLength(PROFILES - 1);
    expect(asDefault?.user_ids).toEqual(adHoc?.user_ids);
    expect(asDefault?.labels).toEqual(adHoc?.labels);
  });
});
