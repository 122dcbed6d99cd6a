import { defaultCutoffFor, fitPrediction, type PredictionModel, type Validation } from '../engine/predict.ts';
import type { Store } from '../store/store.ts';
import { engineAudience } from './audience.ts';
import { cachedResult, readCachedModel, versionOnly, writeCachedModel } from './cache.ts';
import { fitSqlPrediction, type SqlPredictionPlan, sqlPredictionPlan } from './prediction-sql.ts';
import { forecastKey } from './results.ts';

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
  // A backend that computes prediction rows fits on every row in place, without the audience in the app.
  const plan = await sqlPredictionPlan(store, {
    target: request.target,
    ...(request.userChoseFeatures ? { features: request.features } : {}),
    ...(request.validate ? { validate: request.validate } : {}),
  });
  if (plan) return sqlModelFor(store, plan, request, now, options);
  const data = await engineAudience(store);
  const cutoff = defaultCutoffFor(data, request.target);
  const key = modelKey(request, cutoff);
  const hit = await readCachedModel<PredictionModel>(store, data, KIND, key, usable);
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

/** The model's cache key: everything it depends on besides the data version. */
function modelKey(request: PredictionRequest, cutoff: number): string {
  return `${KIND}|${request.target}|${request.features.join(',')}|${cutoff}|${request.currency.toUpperCase()}|${request.validate ?? 'default'}`;
}

/** Whether a cached model has every field this build reads. */
function usable(m: unknown): boolean {
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
}

/** `predictionModelFor` on the backend's rows: the same cache, keyed by the data version alone. */
async function sqlModelFor(
  store: Store,
  plan: SqlPredictionPlan,
  request: PredictionRequest,
  now: number,
  options: { record?: boolean },
): Promise<{ model: PredictionModel; cached: boolean; key: string }> {
  const version = await store.audience.version();
  const key = modelKey({ ...request, target: plan.target, features: plan.features }, plan.cutoff);
  const hit = await readCachedModel<PredictionModel>(store, { version }, KIND, key, usable);
  if (hit) return { model: hit, cached: true, key };
  const fitted = async () => {
    const fit = await fitSqlPrediction(plan, request.currency);
    // Everyone's forecast was summed in the fit's pass: the reply that follows reads it from the memo.
    void cachedResult(
      store,
      versionOnly(fit.version),
      forecastKey(key, { kind: 'all' }),
      async () => fit.everyone,
    );
    return fit;
  };
  if (options.record === false) {
    const { model } = await cachedResult(store, versionOnly(version), `model|${key}`, fitted);
    return { model, cached: false, key };
  }
  const { model, version: fittedAt } = await fitted();
  await writeCachedModel(store, { kind: KIND, key, dataVersion: fittedAt, now, model });
  return { model, cached: false, key };
}
