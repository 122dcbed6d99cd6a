import { defaultCutoff, fitPrediction, type PredictionModel } from '../engine/predict.ts';
import type { Store } from '../store/store.ts';
import { engineAudience } from './audience.ts';
import { cachedResult, readCachedModel, writeCachedModel } from './cache.ts';

const KIND = 'prediction';

/** Which model: a resolved target and feature list, and whether the features were chosen by the user. */
export interface PredictionRequest {
  target: string;
  features: string[];
  userChoseFeatures: boolean;
  currency: string;
}

/**
 * The prediction model for a request (and its cache key), from the cache on unchanged data, else fitted and
 * cached. `record: false` (digest content, previews) keeps a fitted model in memory instead of the store.
 */
export async function predictionModelFor(
  store: Store,
  request: PredictionRequest,
  now: number,
  options: { record?: boolean } = {},
): Promise<{ model: PredictionModel; cached: boolean; key: string }> {
  const data = await engineAudience(store);
  const cutoff = defaultCutoff(data.interactions);
  const key = `${KIND}|${request.target}|${request.features.join(',')}|${cutoff}|${request.currency.toUpperCase()}`;
  const hit = await readCachedModel<PredictionModel>(store, data, KIND, key, (m) => {
    const model = m as Partial<PredictionModel> | null;
    return Boolean(
      model &&
        Array.isArray(model.coefficients) &&
        Array.isArray(model.imputeMedians) &&
        Array.isArray(model.dropped),
    );
  });
  if (hit) return { model: hit, cached: true, key };
  const fitModel = () =>
    fitPrediction(data, {
      target: request.target,
      ...(request.userChoseFeatures ? { features: request.features } : {}),
      cutoff,
      currency: request.currency,
    });
  if (options.record === false)
    return { model: cachedResult(store, data, `model|${key}`, fitModel), cached: false, key };
  const model = fitModel();
  await writeCachedModel(store, { kind: KIND, key, dataVersion: data.version, now, model });
  return { model, cached: false, key };
}
