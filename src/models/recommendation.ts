import { dataAsOf } from '../engine/as-of.ts';
import { buildRecommendModel, type RecommendModel } from '../engine/recommend.ts';
import type { Store } from '../store/store.ts';
import { readCachedModel, writeCachedModel } from './cache.ts';

const KIND = 'recommend';
/** The key of the cached recommendation model in `data.models`. */
export const RECOMMEND_MODEL_KEY = 'recommend';

/**
 * The recommendation model, from the cache on unchanged data and segments, else rebuilt and cached. It backs
 * off to the latest stored segmentation, so a new segment run also rebuilds it.
 */
export function recommendationModelFor(
  store: Store,
  now: number,
): { model: RecommendModel; cached: boolean } {
  const { data } = store;
  const run = data.segmentRuns.at(-1);
  const hit = readCachedModel<RecommendModel>(data, KIND, RECOMMEND_MODEL_KEY, (m) => {
    const model = m as Partial<RecommendModel> | null;
    if (model?.version !== 1 || !Array.isArray(model.itemIds) || !model.taste || !model.params) return false;
    return (model.segmentRunId ?? undefined) === run?.id;
  });
  if (hit) return { model: hit, cached: true };
  const model = buildRecommendModel(data, {
    asOf: dataAsOf(data.interactions, now),
    builtAt: now,
    ...(run
      ? { segments: { userIds: run.user_ids, labels: run.labels, names: run.names, runId: run.id } }
      : {}),
  });
  writeCachedModel(store, {
    kind: KIND,
    key: RECOMMEND_MODEL_KEY,
    dataVersion: data.meta.dataVersion,
    now,
    model,
    keep: 1,
  });
  return { model, cached: false };
}
