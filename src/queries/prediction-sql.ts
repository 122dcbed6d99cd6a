/**
 * `/audience predict` answered by a backend that computes prediction rows itself (the seam's
 * `audience.predictions`: PostgreSQL), without the audience in the app: the backend sums each training set, the
 * engine solves the sums (engine/predict-sums.ts), and the backend applies the fitted scores to its rows for the
 * out-of-sample check and the forecast. Same model as the engine's on a snapshot (coefficients to 1e-6, the same
 * refusals, folds and checks), for the requests the backend computes; anything else (`validate=holdout`,
 * interest and category features) returns null here and goes the snapshot way.
 */
import type { AttributeKind } from '../domain/types.ts';
import {
  checkRowsPerFeature,
  checkTrainingCounts,
  DEFAULT_FOLDS,
  HORIZON_DAYS,
  PredictError,
  type PredictionModel,
  resolveFeatures,
  resolveTarget,
  SPEND_TARGET,
  type Validation,
  type ValidationResult,
} from '../engine/predict.ts';
import {
  crossValidationOfSums,
  designFromSums,
  fitSums,
  modelFromSums,
  qualityOfSums,
  type SumsDesign,
  timeSplitOfSums,
} from '../engine/predict-sums.ts';
import type { PredictionRows, PredictionSource, Store } from '../store/store.ts';

const HORIZON = HORIZON_DAYS * 86_400_000;
const SEED = 42;

/** A request the backend can answer, resolved: target, features and the default cutoff. */
export interface SqlPredictionPlan {
  source: PredictionSource;
  target: string;
  features: string[];
  userChoseFeatures: boolean;
  cutoff: number;
  kinds: Record<string, AttributeKind>;
  validate: Validation | undefined;
}

/**
 * The plan for a request when the backend computes its rows, else null (a snapshot is needed). Target and
 * feature names are checked as the engine checks them, with the same messages.
 */
export async function sqlPredictionPlan(
  store: Store,
  asked: { target?: string; features?: readonly string[]; validate?: Validation },
): Promise<SqlPredictionPlan | null> {
  const source = store.audience.predictions;
  if (!source || asked.validate === 'holdout') return null;
  const kinds = { ...(await store.audience.attributeKinds()) };
  if (asked.features && !asked.features.every((f) => source.computes(f, kinds[f]))) return null;
  const target = resolveTarget(kinds, asked.target);
  // Only built-ins and attributes reach here, so the names check needs no profiles or products.
  const features = resolveFeatures(
    { attributes: kinds, profiles: [], products: [], interactions: [] },
    target,
    asked.features,
  );
  if (!features.every((f) => source.computes(f, kinds[f]))) return null;
  const { latestInteraction, latestSignup } = await source.extent();
  let cutoff: number;
  if (target === SPEND_TARGET || latestInteraction !== null) {
    if (latestInteraction === null)
      throw new PredictError('there are no interactions yet, so there is nothing to learn from');
    cutoff = latestInteraction + 1 - HORIZON;
  } else {
    cutoff = (latestSignup ?? -1) + 1 - HORIZON;
  }
  return {
    source,
    target,
    features,
    userChoseFeatures: asked.features !== undefined,
    cutoff,
    kinds,
    validate: asked.validate,
  };
}

/** Fits the plan's model on the backend's rows; returns it with the data version the rows were read at. */
export async function fitSqlPrediction(
  plan: SqlPredictionPlan,
  currency: string,
): Promise<{ model: PredictionModel; version: number }> {
  const { target, cutoff } = plan;
  const spend = target === SPEND_TARGET;
  const validate = plan.validate ?? (spend ? 'time' : 'cv');
  if (validate === 'time' && !spend) {
    throw new PredictError(
      `validate=time needs a target that moves with time (${SPEND_TARGET}); "${target}" is today's value, so use validate=cv`,
    );
  }
  const asOf = spend ? cutoff : cutoff + HORIZON;
  const rows = await plan.source.open({
    target,
    features: plan.features,
    asOf,
    earlier: validate === 'time',
    folds: DEFAULT_FOLDS,
    seed: SEED,
  });
  try {
    const all = await rows.sums('train');
    checkTrainingCounts({ target, cutoff, features: all.names.length, n: all.n, buyers: all.positives });
    checkRowsPerFeature(all.n, all.names.length);
    const design = designFromSums(all, plan.userChoseFeatures);
    const fit = fitSums(design);
    const inSample = qualityOfSums(
      await rows.errors('train', [{ fold: null, score: fit.score, baseline: all.yMean }]),
    ).quality;
    let validation: ValidationResult | null = null;
    if (validate === 'cv') validation = await crossValidateRows(rows, design);
    else if (validate === 'time') validation = await timeSplitOrCv(rows, design, plan);
    const model = modelFromSums(design, fit, {
      target,
      cutoff,
      asOf,
      currency,
      kinds: plan.kinds,
      inSample,
      validation,
    });
    return { model, version: rows.version };
  } finally {
    await rows.release();
  }
}

/** The time split, or (as the engine does when it was only the default) cross-validation when it cannot be. */
async function timeSplitOrCv(
  rows: PredictionRows,
  design: SumsDesign,
  plan: SqlPredictionPlan,
): Promise<ValidationResult> {
  try {
    return await timeSplitRows(rows, design, plan);
  } catch (error) {
    if (!(error instanceof PredictError) || plan.validate === 'time') throw error;
    const cv = await crossValidateRows(rows, design);
    return { ...cv, fallback: `no time split: ${error.message}` };
  }
}

/** The engine's time split on sums: fitted one window earlier, checked on the latest window's rows. */
async function timeSplitRows(
  rows: PredictionRows,
  design: SumsDesign,
  plan: SqlPredictionPlan,
): Promise<ValidationResult> {
  const names = design.sums.names;
  const earlier = await rows.sums('earlier', { names });
  checkTrainingCounts({
    target: plan.target,
    cutoff: plan.cutoff - HORIZON,
    features: names.length,
    n: earlier.n,
    buyers: earlier.positives,
  });
  const fit = fitSums(designFromSums(earlier, false));
  const errors = await rows.errors('train', [{ fold: null, score: fit.score, baseline: earlier.yMean }]);
  return timeSplitOfSums(errors, earlier.n);
}

/** The engine's k-fold cross-validation on sums: each fold scored by the fit on the other folds' rows. */
async function crossValidateRows(rows: PredictionRows, design: SumsDesign): Promise<ValidationResult> {
  const { names, n } = design.sums;
  const folds = DEFAULT_FOLDS;
  if (folds > Math.min(20, n)) {
    throw new PredictError(`folds=${folds} is out of range; use a whole number from 2 to ${Math.min(20, n)}`);
  }
  // A fold's medians only fill gaps: columns without any need none.
  const medianOf = names.filter((_, j) => (design.sums.imputed[j] ?? 0) > 0);
  const scores = [];
  let trained = 0;
  for (let f = 0; f < folds; f++) {
    const sums = await rows.sums('train', { names, withoutFold: f, medianOf });
    scores.push({ fold: f, score: fitSums(designFromSums(sums, false)).score, baseline: sums.yMean });
    trained += sums.n;
  }
  return crossValidationOfSums(await rows.errors('train', scores), folds, trained);
}
