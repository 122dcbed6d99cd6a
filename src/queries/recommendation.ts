import { dataAsOf } from '../engine/as-of.ts';
import { buildRecommendModel, type RecommendModel, withSegments } from '../engine/recommend.ts';
import type { Store } from '../store/store.ts';
import { engineAudience } from './audience.ts';
import { cachedResult, readCachedModel, writeCachedModel } from './cache.ts';
import { storedDefaultRun } from './segmentation.ts';

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
  const data = await engineAudience(store);
  const run = await storedDefaultRun(store);
  const stored = await readCachedModel<RecommendModel>(store, data, KIND, RECOMMEND_MODEL_KEY, (m) => {
    const model = m as Partial<RecommendModel> | null;
    return model?.version === 2 && Array.isArray(model.itemIds) && Boolean(model.taste && model.params);
  });
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
