import type { RecommendStatsScan, RecommendStatsSource } from '../domain/recommend-stats.ts';
import type { SegmentRun } from '../domain/types.ts';
import { dataAsOf } from '../engine/as-of.ts';
import {
  buildRecommendModel,
  finishRecommendModel,
  pairsFromSums,
  planRecommendModel,
  type QueryOptions,
  type RecommendInput,
  type RecommendModel,
  recommendCellRules,
  recommendForUser,
  recommendSampleFromRows,
  recommendSamplePlan,
  type UserRecommendations,
  withSegmentSums,
  withSegments,
} from '../engine/recommend.ts';
import type { Store } from '../store/store.ts';
import { engineAudience } from './audience.ts';
import { cachedResult, readCachedModel, versionOnly, writeCachedModel } from './cache.ts';
import { currentDefaultRun, storedDefaultRun } from './segmentation.ts';

const KIND = 'recommend';
/** The key of the cached recommendation model in `store.models`. */
export const RECOMMEND_MODEL_KEY = 'recommend';

/**
 * The recommendation model, from the cache on unchanged data and segments, else rebuilt and cached (in memory
 * only with `record: false`). It backs off to the default segmentation, so a new default swaps in that run's
 * segment tables (ad-hoc runs never do).
 */
export async function recommendationModelFor(
  store: Store,
  now: number,
  options: { record?: boolean } = {},
): Promise<{ model: RecommendModel; cached: boolean }> {
  const source = store.audience.recommendStats;
  if (source) return modelFromStats(store, source, now, options);
  const data = await engineAudience(store);
  const run = await storedDefaultRun(store);
  const stored = await readCachedModel<RecommendModel>(store, data, KIND, RECOMMEND_MODEL_KEY, isModel);
  if (stored && (stored.segmentRunId ?? undefined) === run?.id) return { model: stored, cached: true };
  const segments = run
    ? { userIds: run.user_ids, labels: run.labels, names: run.names, runId: run.id }
    : undefined;
  const asOf = dataAsOf(data.interactions, now);
  // Same data, new segment run: only the segment tables change (a fraction of a full build).
  const build = () =>
    stored && stored.asOf === asOf
      ? withSegments(stored, data, segments, now)
      : buildRecommendModel(data, { asOf, builtAt: now, ...(segments ? { segments } : {}) });
  // Digest content and previews write nothing: the model is kept in memory for this data and segmentation.
  if (options.record === false)
    return {
      model: cachedResult(store, data, `model|${KIND}|${run?.id ?? ''}|${asOf}`, build),
      cached: false,
    };
  const model = build();
  await writeCachedModel(store, {
    kind: KIND,
    key: RECOMMEND_MODEL_KEY,
    dataVersion: data.version,
    now,
    model,
    keep: 1,
  });
  return { model, cached: false };
}

function isModel(m: unknown): boolean {
  const model = m as Partial<RecommendModel> | null;
  return model?.version === 5 && Array.isArray(model.itemIds) && Boolean(model.taste && model.params);
}

/**
 * The model from a backend's own statistics (a database: SQL, src/store/postgres/recommend-stats.ts): the app
 * reads counts, a bounded sample of people and the item-pair sums, never the whole audience. The model keeps no
 * member lists: a person's segment is read with their rows (`userRecommendationsFor`).
 */
async function modelFromStats(
  store: Store,
  source: RecommendStatsSource,
  now: number,
  options: { record?: boolean },
  known?: { version: number; runs: readonly SegmentRun[] },
): Promise<{ model: RecommendModel; cached: boolean }> {
  // The run's id, size and names are all the model needs: its members stay in the database.
  const [version, runs] = known
    ? [known.version, known.runs]
    : await Promise.all([store.audience.version(), store.segmentRuns.headers()]);
  const run = currentDefaultRun(runs);
  let built = false;
  // Parsed once per data version and segmentation, so a person's answer costs two small reads and their rows.
  const model = await cachedResult(
    store,
    versionOnly(version),
    `model|${KIND}|${run?.id ?? ''}`,
    async () => {
      const stored = await readCachedModel<RecommendModel>(
        store,
        { version },
        KIND,
        RECOMMEND_MODEL_KEY,
        isModel,
      );
      if (stored && (stored.segmentRunId ?? undefined) === run?.id) return stored;
      built = true;
      const fresh = await buildFromStats(source, stored, run, now);
      // Digest content and previews write nothing: the model stays in memory for this data and segmentation.
      if (options.record !== false)
        await writeCachedModel(store, {
          kind: KIND,
          key: RECOMMEND_MODEL_KEY,
          dataVersion: fresh.version,
          now,
          model: fresh.model,
          keep: 1,
        });
      // Queries read the model as every other replica does, parsed from its JSON: on the model as the fit left it
      // one person's top 10 took about twice as long (2M profiles: p50 39 → 21 ms in one process, GC 27 ms of it).
      return JSON.parse(JSON.stringify(fresh.model)) as RecommendModel;
    },
  );
  return { model, cached: !built };
}

/** One build from the statistics of one scan (one state of the data, whose version it returns). */
async function buildFromStats(
  source: RecommendStatsSource,
  stored: RecommendModel | null,
  run: SegmentRun | undefined,
  now: number,
): Promise<{ model: RecommendModel; version: number }> {
  const scan = await source.open();
  try {
    const options = { asOf: scan.latest !== null ? scan.latest + 1 : now, builtAt: now };
    await scan.cells(recommendCellRules(options));
    // Same data, new segment run: only the segment tables change.
    const base =
      stored && stored.asOf === options.asOf
        ? withSegments(stored, { profiles: [], interactions: [], products: [] }, undefined, now)
        : await fitFromScan(scan, options);
    const model = run
      ? withSegmentSums(base, await scan.segmentSums(run.id, run.k, base.params.popularityHalfLifeDays), {
          names: run.names,
          runId: run.id,
        })
      : base;
    return { model, version: scan.version };
  } finally {
    await scan.release();
  }
}

async function fitFromScan(scan: RecommendStatsScan, options: { asOf: number; builtAt: number }) {
  const products = await scan.products();
  const census = await scan.census();
  const rows = await scan.sample(recommendSamplePlan(census, options));
  const sample = recommendSampleFromRows(rows, products, census, options);
  const draft = planRecommendModel(products, census, sample, options);
  const sums = await scan.pairs(draft.collaborative.itemSet, draft.collaborative.halfLifeDays);
  return finishRecommendModel(draft, pairsFromSums(sums));
}

/**
 * One person's recommendations. With a backend's statistics only that person's rows are read (by index), plus
 * the catalogue and the cached model; otherwise the engine reads the snapshot.
 */
export async function userRecommendationsFor(
  store: Store,
  userId: string,
  n: number,
  now: number,
  options: QueryOptions = {},
): Promise<{ result: UserRecommendations; cached: boolean }> {
  const source = store.audience.recommendStats;
  if (!source) {
    const { model, cached } = await recommendationModelFor(store, now);
    return { result: recommendForUser(model, await engineAudience(store), userId, n, options), cached };
  }
  // Two round trips: the version and the runs, then the person's rows beside the (cached) model.
  const [version, runs] = await Promise.all([store.audience.version(), store.segmentRuns.headers()]);
  const runId = currentDefaultRun(runs)?.id;
  const [{ model, cached }, profiles, interactions, products, labels] = await Promise.all([
    modelFromStats(store, source, now, {}, { version, runs }),
    store.audience.profiles({ ids: [userId] }),
    store.audience.interactionsOf([userId]),
    // The catalogue once per data version (and the same array, so the engine's product index is kept too).
    cachedResult(store, versionOnly(version), 'recommend-products', async () => [
      ...(await store.audience.products()),
    ]),
    runId ? store.segmentRuns.labelsOf(runId, [userId]) : Promise.resolve(new Map<string, number>()),
  ]);
  const input: RecommendInput = {
    profiles: [...profiles],
    interactions: [...interactions],
    products,
  };
  const segment = labels.get(userId) ?? null;
  return { result: recommendForUser(model, input, userId, n, { ...options, segment }), cached };
}
