import { dataAsOf } from '../engine/as-of.ts';
import { buildRecommendModel, type RecommendModel, withSegments } from '../engine/recommend.ts';
import type { Store } from '../store/store.ts';
import { engineAudience } from './audience.ts';
import { readCachedModel, writeCachedModel } from './cache.ts';

const KIND = 'recommend';
/** The key of the cached recommendation model in `store.models`. */
export const RECOMMEND_MODEL_KEY = 'recommend';

/**
 * The recommendation model, from the cache on unchanged data and segments, else rebuilt and cached. It backs
 * off to the latest stored segmentation, so a new segment run swaps in that run's segment tables.
 */
export async function recommendationModelFor(
  store: Store,
  now: number,
): Promise<{ model: RecommendModel; cached: boolean }> {
  const data = await engineAudience(store);
  const run = await store.segmentRuns.latest();
  const stored = await readCachedModel<RecommendModel>(store, data, KIND, RECOMMEND_MODEL_KEY, (m) => {
    const model = m as Partial<RecommendModel> | null;
    return model?.version === 1 && Array.isArray(model.itemIds) && Boolean(model.taste && model.params);
  });
  if (stored && (stored.segmentRunId ?? undefined) === run?.id) return { model: stored, cached: true };
  const segments = run
    ? { userIds: run.user_ids, labels: run.labels, names: run.names, runId: run.id }
    : undefined;
  const asOf = dataAsOf(data.interactions, now);
  // Same data, new segment run: only the segment tables change (a fraction of a full build).
  const model =
    stored && stored.asOf === asOf
      ? withSegments(stored, data, segments, now)
      : buildRecommendModel(data, { asOf, builtAt: now, ...(segments ? { segments } : {}) });
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
