/**
 * `/audience predict` answered by a backend that computes prediction rows itself (the seam's
 * `audience.predictions`: PostgreSQL), without the audience in the app: the backend sums each training set, the
 * engine solves the sums (engine/predict-sums.ts), and the backend applies the fitted scores to its rows for the
 * out-of-sample check and the forecast. Same model as the engine's on a snapshot (coefficients to 1e-6, the same
 * refusals, folds and checks), for the requests the backend computes; anything else (`validate=holdout`,
 * interest and category features) returns null here and goes the snapshot way.
 */
import type {
  ColumnStats,
  ErrorSums,
  FoldScore,
  LinearScore,
  PatternSums,
  TrainingSums,
} from '../domain/cross-products.ts';
import type { AttributeKind } from '../domain/types.ts';
import type { FoldSums } from '../engine/fold-sums.ts';
import {
  checkRowsPerFeature,
  checkTrainingCounts,
  DEFAULT_FOLDS,
  foldFit,
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
  narrowFoldSums,
  qualityOfSums,
  type SumsDesign,
  setSumsOf,
  timeSplitOfSums,
} from '../engine/predict-sums.ts';
import type { ForecastSums, PredictionRows, PredictionSet, PredictionSource, Store } from '../store/store.ts';

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
): Promise<{ model: PredictionModel; version: number; everyone: ForecastSums }> {
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
    // Everyone's forecast comes from the same pass over the interactions (the reply asks for it next).
    now: cutoff + HORIZON,
    folds: DEFAULT_FOLDS,
    seed: SEED,
  });
  try {
    // The time split needs no folds (their sums are taken only if it falls back to cross-validation).
    const train = await setSums(rows, 'train', plan.features, validate !== 'time');
    const all = train.sums;
    checkTrainingCounts({ target, cutoff, features: all.names.length, n: all.n, buyers: all.positives });
    checkRowsPerFeature(all.n, all.names.length);
    const design = designFromSums(all, plan.userChoseFeatures);
    const fit = fitSums(design);
    const full: FoldScore[] = [{ fold: null, score: fit.score, baseline: all.yMean }];
    const check = validate === 'none' ? null : await checkOf(rows, design, train, plan, validate);
    // The in-sample errors, the check's and everyone's forecast (the full fit's score) in one pass over the rows.
    const { errors, everyone } = await rows.errors('train', check ? [full, check.scores] : [full], fit.score);
    const [own, checked] = errors;
    const inSample = qualityOfSums(own as ErrorSums).quality;
    const validation = check && checked ? check.result(checked) : null;
    const model = modelFromSums(design, fit, {
      target,
      cutoff,
      asOf,
      currency,
      kinds: plan.kinds,
      inSample,
      validation,
    });
    if (!everyone) throw new Error('internal: the rows gave no forecast');
    return { model, version: rows.version, everyone };
  } finally {
    await rows.release();
  }
}

/** A model as a database applies it to rows. */
export function scoreOf(model: PredictionModel): LinearScore {
  return {
    names: model.features,
    coefficients: model.coefficients.map((c) => c.value),
    intercept: model.intercept,
    medians: model.imputeMedians,
  };
}

/** A set's sums: its column stats, and its training and fold sums from them (`foldsOf`). */
interface SetSums {
  stats: ColumnStats;
  sums: TrainingSums;
  folds: FoldSums;
}

/** A set's training sums and fold sums (per fold with `byFold`, else all rows as one), from its column stats. */
async function setSums(
  rows: PredictionRows,
  set: PredictionSet,
  names: readonly string[],
  byFold: boolean,
): Promise<SetSums> {
  const stats = await rows.columns(set, names);
  return { stats, ...(await foldsOf(rows, set, names, stats, byFold)) };
}

/** One pass of pattern sums over a set, per fold or not, given its column stats. */
async function foldsOf(
  rows: PredictionRows,
  set: PredictionSet,
  names: readonly string[],
  stats: ColumnStats,
  byFold: boolean,
): Promise<{ sums: TrainingSums; folds: FoldSums }> {
  const gaps = stats.missing.map((m) => m > 0);
  const perFold = await rows.patterns(set, { names, shift: stats.means, gaps, byFold });
  return setSumsOf(names, stats, perFold);
}

/** An out-of-sample check: the scores to apply to the latest rows, and the result from their errors. */
interface Check {
  scores: FoldScore[];
  result: (errors: ErrorSums) => ValidationResult;
}

/** The check asked for; the default time split gives way to cross-validation when it cannot be done. */
async function checkOf(
  rows: PredictionRows,
  design: SumsDesign,
  train: SetSums,
  plan: SqlPredictionPlan,
  validate: Exclude<Validation, 'none'>,
): Promise<Check> {
  if (validate !== 'time') return crossValidation(rows, design, train.folds);
  try {
    return await timeSplit(rows, design, plan);
  } catch (error) {
    if (!(error instanceof PredictError) || plan.validate === 'time') throw error;
    // The training rows' sums per fold, not taken for the time split.
    const { folds } = await foldsOf(rows, 'train', plan.features, train.stats, true);
    const cv = await crossValidation(rows, design, folds);
    return { ...cv, result: (e) => ({ ...cv.result(e), fallback: `no time split: ${error.message}` }) };
  }
}

/** The engine's time split on sums: fitted one window earlier, checked on the latest window's rows. */
async function timeSplit(rows: PredictionRows, design: SumsDesign, plan: SqlPredictionPlan): Promise<Check> {
  const names = design.sums.names;
  const earlier = (await setSums(rows, 'earlier', names, false)).sums;
  checkTrainingCounts({
    target: plan.target,
    cutoff: plan.cutoff - HORIZON,
    features: names.length,
    n: earlier.n,
    buyers: earlier.positives,
  });
  const fit = fitSums(designFromSums(earlier, false));
  return {
    scores: [{ fold: null, score: fit.score, baseline: earlier.yMean }],
    result: (errors) => timeSplitOfSums(errors, earlier.n),
  };
}

/** The engine's k-fold cross-validation on the fold sums: each fold scored by the fit on the other folds. */
async function crossValidation(rows: PredictionRows, design: SumsDesign, all: FoldSums): Promise<Check> {
  const { names, n } = design.sums;
  const folds = DEFAULT_FOLDS;
  if (folds > Math.min(20, n)) {
    throw new PredictError(`folds=${folds} is out of range; use a whole number from 2 to ${Math.min(20, n)}`);
  }
  const sums = narrowFoldSums(all, names);
  // A fold's medians only fill gaps: columns without any need none.
  const gaps = names.filter((_, j) => (design.sums.imputed[j] ?? 0) > 0);
  const medians = await rows.foldMedians('train', gaps);
  const scores: FoldScore[] = [];
  let trained = 0;
  for (let f = 0; f < folds; f++) {
    const fit = foldFit(sums, f, (j) => medians[f]?.[gaps.indexOf(names[j] as string)] ?? 0);
    const train = sums.train[f] as PatternSums;
    scores.push({
      fold: f,
      score: {
        names: fit.columns.map((j) => names[j] as string),
        coefficients: fit.beta,
        intercept: fit.intercept,
        medians: fit.medians,
      },
      baseline: train.n > 0 ? train.sy / train.n : 0,
    });
    trained += train.n;
  }
  return { scores, result: (errors) => crossValidationOfSums(errors, folds, trained) };
}
