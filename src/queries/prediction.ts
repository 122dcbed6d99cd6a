import { defaultCutoffFor, fitPrediction, type PredictionModel, type Validation } from '../engine/predict.ts';
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
  /** How to check it out of sample; undefined: the engine's default for the target. */
  validate?: Validation;
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
  const cutoff = defaultCutoffFor(data, request.target);
  const key = `${KIND}|${request.target}|${request.features.join(',')}|${cutoff}|${request.currency.toUpperCase()}|${request.validate ?? 'default'}`;
  const hit = await readCachedModel<PredictionModel>(store, data, KIND, key, (m) => {
    const model = m as Partial<PredictionModel> | null;
    return Boolean(
      model &&
        Array.isArray(model.coefficients) &&
        Array.isArray(model.imputeMedians) &&
        Array.isArray(model.dropped) &&
        // Models cached before full-data fits had a holdout and no ranking effects: fit those again.
        model.validation !== undefined &&
        model.coefficients.every((c) => typeof c.effect === 'number'),
    );
  });
  if (hit) return { model: hit, cached: true, key };
  const fitModel = () =>
    fitPrediction(data, {
      target: request.target,
      ...(request.userChoseFeatures ? { features: request.features } : {}),
      cutoff,
      currency: request.currency,
      ...(request.validate ? { validate: request.validate } : {}),
    });
  if (options.record === false)
    return { model: cachedResult(store, data, `model|${key}`, fitModel), cached: false, key };
  const model = fitModel();
  await writeCachedModel(store, { kind: KIND, key, dataVersion: data.version, now, model });
  return { model, cached: false, key };
}
