/**
 * Purchase prediction: an ordinary least-squares model of next-30-day spend (or any numeric attribute) on
 * profile features computed at the cutoff, so nothing after it leaks into the features. The reported coefficients
 * and standard errors are those of the fit on every row (what R's `lm` prints); out-of-sample quality comes
 * separately from k-fold cross-validation, a time split (spend: fitted on the 30 days before, checked on the
 * latest 30) or a seeded holdout, against the "everyone gets the average" baseline. Plain JSON, so it can be cached.
 */

import { closest } from 'fastest-levenshtein';
import { EigenvalueDecomposition, inverse, Matrix } from 'ml-matrix';
import type { CrossProducts } from '../domain/cross-products.ts';
import { UserError } from '../domain/errors.ts';
import { foldOfId } from '../domain/folds.ts';
import { formatMoney } from '../domain/format.ts';
import { own } from '../domain/names.ts';
import { Rng } from '../domain/random.ts';
import type { AttributeKind, AudienceData } from '../domain/types.ts';
import {
  availableFeatures,
  columnMedian,
  computeFeatures,
  FeatureError,
  type FeatureTable,
} from './features.ts';
import { constantColumns, type FoldSums, foldCrossProducts, foldSums, hasMissing } from './fold-sums.ts';
import { type InteractionIndex, interactionIndex, latestTimestamp, userRows } from './interaction-index.ts';
import { solveCrossProducts } from './ols-sums.ts';

const DAY = 86_400_000;
/** Days in the prediction horizon: the model forecasts the 30 days after "now". */
export const HORIZON_DAYS = 30;
const HORIZON = HORIZON_DAYS * DAY;
/** The default target: what each user spends in the 30 days after the cutoff. */
export const SPEND_TARGET = 'spend_next_30d';

const MIN_ROWS = 50;
const ROWS_PER_FEATURE = 10;
const MIN_PURCHASERS = 20;
// A pair this correlated, or a smallest eigenvalue of the correlation matrix this small, means one feature
// is (almost) a copy or a sum of others: the fit would still run, but its coefficients would be noise.
const MAX_PAIR_CORRELATION = 0.9999;
const MIN_CORRELATION_EIGENVALUE = 1e-4;
const DRIVER_COUNT = 3;
/** |t| at or above this is a clearly non-zero effect (about 95% confidence). */
const CLEAR_T = 2;

/** How out-of-sample quality is measured: k-fold cross-validation, a time split, a seeded holdout, or not at all. */
export const VALIDATIONS = ['cv', 'time', 'holdout', 'none'] as const;
/** One of `VALIDATIONS`. */
export type Validation = (typeof VALIDATIONS)[number];
/** Folds of the default cross-validation. */
export const DEFAULT_FOLDS = 5;
const BASE_FEATURES = [
  'monetary',
  'frequency',
  'recency_days',
  'engagement',
  'active_days_per_week',
  'log_followers',
  'tenure_days',
];

/** The data a prediction needs. */
export type PredictInput = Pick<AudienceData, 'profiles' | 'interactions' | 'products' | 'attributes'>;

/** How to fit a prediction; every field has a sensible default. */
export interface PredictOptions {
  /** `spend_next_30d` (default) or the name of a numeric custom attribute. */
  target?: string;
  /** Feature names (see `availableFeatures`); default: behaviour features plus numeric custom attributes. */
  features?: string[];
  /** Epoch ms splitting past (features) from future (target); default: latest interaction + 1 ms - 30 days. */
  cutoff?: number;
  /** How to check the model out of sample; default `time` for spend (a forecast), `cv` for attributes. */
  validate?: Validation;
  /** Folds of `validate=cv`; default 5. */
  folds?: number;
  /** Share of users held out by `validate=holdout`; default 0.2. */
  holdoutShare?: number;
  /** Seed of the folds or the holdout split; default 42. */
  seed?: number;
  /** Currency the driver sentences are written in; default USD. */
  currency?: string;
}

/** One coefficient in original units: the change in the target per unit of the feature. */
export interface Coefficient {
  feature: string;
  value: number;
  stdError: number;
  t: number;
  /** value × the feature's standard deviation: the effect of a typical difference, which ranks the drivers. */
  effect: number;
}

/** Error measures on one set of users. */
export interface FitQuality {
  r2: number;
  mae: number;
  rmse: number;
}

/** Out-of-sample quality: every checked person predicted by a model that never saw them, and the average guess. */
export interface ValidationResult extends FitQuality {
  method: Exclude<Validation, 'none'>;
  /** People checked: everyone (cv), the latest window's people (time) or the held-out share (holdout). */
  n: number;
  /** Rows each checking model learned from: per fold on average (cv), the earlier window (time), the rest (holdout). */
  trainN: number;
  /** cv: the number of folds; holdout: the share held out; time: the days of each window. */
  size: number;
  baseline: FitQuality;
  /** Why the default time split gave way to cross-validation, when it did. */
  fallback?: string;
}

/** A fitted prediction, plain JSON (no class instances) so it can be cached in the store. */
export interface PredictionModel {
  target: string;
  features: string[];
  /** Features left out of the default set: constant, or redundant with others (collinear). */
  dropped: string[];
  cutoff: number;
  /** When the training features were computed: the cutoff for spend, cutoff + 30 days for attribute targets. */
  asOf: number;
  intercept: number;
  coefficients: Coefficient[];
  /** Training means of the features (after imputation), in `features` order. */
  means: number[];
  /** Training medians that replace missing values, in `features` order. */
  imputeMedians: number[];
  /** Out-of-sample quality; null with `validate=none`. */
  validation: ValidationResult | null;
  /** Quality on the rows the coefficients were fitted on (all of them): optimistic, for comparison with R. */
  inSample: FitQuality;
  /** The clearly non-zero effects in the order of `rankCoefficients`, one sentence each in marketer words. */
  drivers: string[];
  /** How many missing values were filled with the training median, per feature (only features with any). */
  imputed: Record<string, number>;
  /** Users in the model: every row of the fit. */
  n: number;
}

/** A refusal to fit or apply a model; the message is one line saying why and what would work. */
export class PredictError extends UserError {
  override name = 'PredictError';
  readonly code = 'predict';
}

/** Checks a target name: `spend_next_30d` or a numeric attribute; refuses with the numeric attributes listed. */
export function resolveTarget(
  attributes: Record<string, AttributeKind>,
  target: string = SPEND_TARGET,
): string {
  if (target === SPEND_TARGET) return target;
  const numeric = numericAttributes(attributes);
  const choices = [SPEND_TARGET, ...numeric].join(', ');
  const kind = own(attributes, target);
  if (kind === undefined) throw new PredictError(`unknown target "${target}"; numeric targets: ${choices}`);
  if (kind !== 'number') {
    throw new PredictError(
      `target "${target}" is a ${kind} attribute, not a number; numeric targets: ${choices}`,
    );
  }
  return target;
}

/** The default feature set for a target: behaviour features plus numeric and yes/no custom attributes. */
export function defaultFeatures(
  attributes: Record<string, AttributeKind>,
  target: string = SPEND_TARGET,
): string[] {
  const available = new Set(availableFeatures(attributes).map((f) => f.name));
  const custom = Object.keys(attributes)
    .filter((name) => attributes[name] === 'number' || attributes[name] === 'boolean')
    .sort();
  const names = [...BASE_FEATURES, ...custom].filter((f) => available.has(f) && f !== target);
  return [...new Set(names)];
}

/** The default cutoff: 30 days before just after the latest interaction, so the last 30 days are the target. */
export function defaultCutoff(interactions: PredictInput['interactions']): number {
  const latest = latestTimestamp(interactions);
  if (!Number.isFinite(latest))
    throw new PredictError('there are no interactions yet, so there is nothing to learn from');
  return latest + 1 - HORIZON;
}

/**
 * The default cutoff for a target. Spend needs interactions (`defaultCutoff`); an attribute is matched with
 * today's profiles, so without interactions "today" is just after the latest sign-up (or the epoch when no
 * profile has a date), and the behaviour features, all empty, fall out of the default set as constant.
 */
export function defaultCutoffFor(
  input: Pick<PredictInput, 'interactions' | 'profiles'>,
  target: string = SPEND_TARGET,
): number {
  if (target === SPEND_TARGET || input.interactions.length > 0) return defaultCutoff(input.interactions);
  let latest = -1;
  for (const p of input.profiles) if (p.created_at !== null && p.created_at > latest) latest = p.created_at;
  return latest + 1 - HORIZON;
}

/** The rows a model learns from: eligible users, their features at `asOf`, and their target values. */
export interface TrainingSet {
  target: string;
  cutoff: number;
  asOf: number;
  table: FeatureTable;
  y: Float64Array;
}

/**
 * Builds the training rows: features at `asOf` (the cutoff for spend, so nothing after it leaks in), the target
 * per user, and only users that existed at `asOf` and have a target value.
 */
export function buildTrainingSet(
  input: PredictInput,
  options: { target: string; features: string[]; cutoff: number },
): TrainingSet {
  const { target, features, cutoff } = options;
  // An attribute holds today's value, so it is matched with today's behaviour; spend is matched with the past.
  const asOf = target === SPEND_TARGET ? cutoff : cutoff + HORIZON;
  if (features.length === 0)
    throw new PredictError('no features to learn from; name some with features=a,b,c');
  const table = featureTable(input, features, asOf, true);
  const n = table.userIds.length;
  // Table rows are the profiles that existed at asOf, in order: the rows of the spend target too.
  if (target === SPEND_TARGET) return { target, cutoff, asOf, table, y: spendTarget(input, cutoff) };
  const y = new Float64Array(n);
  const byId = new Map(input.profiles.map((p) => [p.id, p]));
  const keep: number[] = [];
  table.userIds.forEach((id, i) => {
    const attrs = byId.get(id)?.attrs;
    const v = attrs && own(attrs, target);
    // People without a value of the target cannot teach anything about it.
    if (typeof v === 'number' && Number.isFinite(v)) {
      y[i] = v;
      keep.push(i);
    }
  });
  if (keep.length === n) return { target, cutoff, asOf, table, y };
  return {
    target,
    cutoff,
    asOf,
    table: subsetTable(table, keep),
    y: Float64Array.from(keep, (i) => y[i] ?? 0),
  };
}

/**
 * What each profile that existed at the cutoff spent in the 30 days after it, in profile order: the rows of
 * `computeFeatures(…, { asOf: cutoff, existingOnly: true })`.
 */
function spendTarget(input: PredictInput, cutoff: number): Float64Array {
  // The shared typed view of the interactions.
  const index = interactionIndex(input.interactions, input.profiles);
  let n = 0;
  const existed = (p: PredictInput['profiles'][number]) => p.created_at === null || p.created_at < cutoff;
  for (const p of input.profiles) if (existed(p)) n++;
  const rowOfKey = userRows(index, input.profiles, existed);
  const price = new Float64Array(index.itemIds.length).fill(Number.NaN);
  for (const p of input.products) {
    const item = index.itemKeys[p.id];
    if (item !== undefined) price[item] = p.price;
  }
  const y = new Float64Array(n);
  spendInWindow(index.purchases, rowOfKey, price, cutoff, cutoff + HORIZON, y);
  return y;
}

/** Fits the model; refuses with a `PredictError` when the data cannot support an honest one. */
export function fitPrediction(input: PredictInput, options: PredictOptions = {}): PredictionModel {
  const target = resolveTarget(input.attributes, options.target);
  const features = resolveFeatures(input, target, options.features);
  const cutoff = options.cutoff ?? defaultCutoffFor(input, target);
  const set = buildTrainingSet(input, { target, features, cutoff });
  const { validate: _validate, ...rest } = options;
  const fitOptions: FitOptions = {
    ...rest,
    dropConstant: options.features === undefined,
    kinds: input.attributes,
  };
  const validate = options.validate ?? (target === SPEND_TARGET ? 'time' : 'cv');
  if (validate !== 'time') return fitTrainingSet(set, { ...fitOptions, validate });
  if (target !== SPEND_TARGET) {
    throw new PredictError(
      `validate=time needs a target that moves with time (${SPEND_TARGET}); "${target}" is today's value, so use validate=cv`,
    );
  }
  const model = fitTrainingSet(set, { ...fitOptions, validate: 'none' });
  try {
    return { ...model, validation: timeSplit(input, set, model) };
  } catch (error) {
    // Asked for by name, a time split that cannot be done is refused; as the default, cross-validation steps in.
    if (!(error instanceof PredictError) || options.validate === 'time') throw error;
    const cv = crossValidate(set, model.features, options.folds ?? DEFAULT_FOLDS, options.seed ?? 42);
    return { ...model, validation: { ...cv, fallback: `no time split: ${error.message}` } };
  }
}

/** How `fitTrainingSet` treats a prepared training set. */
export interface FitOptions extends Pick<PredictOptions, 'holdoutShare' | 'seed' | 'currency' | 'folds'> {
  /** cv (default), holdout or none; a time split needs the raw data, so `fitPrediction` does it. */
  validate?: Exclude<Validation, 'time'>;
  /** Leave constant features out (default feature set) instead of refusing them by name (features asked for). */
  dropConstant?: boolean;
  /** Attribute kinds, so yes/no features get yes/no driver sentences. */
  kinds?: Record<string, AttributeKind>;
}

/**
 * The fit itself, after features and target are computed: checks, median imputation, collinearity check, least
 * squares and standard errors on every row; then the out-of-sample check, refitting on part of the rows.
 * Does not modify `set`.
 */
export function fitTrainingSet(set: TrainingSet, options: FitOptions = {}): PredictionModel {
  const { target, cutoff } = set;
  const validate = options.validate ?? 'cv';
  checkTrainingSet(set);
  const n = set.y.length;
  checkRowsPerFeature(n, set.table.names.length);
  const all = allRows(n);
  const fit = fitRows(set, all, !options.dropConstant, true);
  const { names, imputeMedians, means, sds, imputed, dropped } = fit.design;
  const inSample = quality(all, set.y, (i) => fit.predicted[i] as number);
  const seed = options.seed ?? 42;
  let validation: ValidationResult | null = null;
  if (validate === 'cv') validation = crossValidate(set, names, options.folds ?? DEFAULT_FOLDS, seed);
  else if (validate === 'holdout') validation = holdoutCheck(set, names, options.holdoutShare ?? 0.2, seed);
  const { coefficients, intercept } = fit;
  const ranked = rankCoefficients(coefficients);
  return {
    target,
    features: names,
    dropped,
    cutoff,
    asOf: set.asOf,
    intercept,
    coefficients,
    means,
    imputeMedians,
    validation,
    inSample,
    drivers: driversOf(ranked, sds, names, options.kinds ?? {}, target, options.currency ?? 'USD'),
    imputed,
    n,
  };
}

/** A least-squares fit on some rows, with the imputed columns and predictions for every row of the set. */
interface RowsFit {
  design: Design;
  coefficients: Coefficient[];
  intercept: number;
  /** Predictions for every row of the set (spend floored at zero), as `predictUsers` computes them. */
  predicted: Float64Array;
}

/**
 * Fits on `rows` (medians, scaling and weights from those rows only) and predicts every row of the set. The
 * reported fit (`exact`) also gets standard errors, for the table R's `lm` prints; the checking fits (time split,
 * holdout) only need their predictions. Cross-validation does not come here: it solves each fold from sums.
 */
function fitRows(set: TrainingSet, rows: Int32Array, explicit: boolean, exact = false): RowsFit {
  const design = designColumns(set, rows, explicit);
  const y = gather(set.y, rows, new Float64Array(rows.length));
  const { coefficients, intercept } = normalEquations(design, y, exact);
  const predicted = predictColumns(
    set.y.length,
    design.columns,
    coefficients.map((c) => c.value),
    intercept,
    set.target === SPEND_TARGET,
  );
  return { design, coefficients, intercept, predicted };
}

/** 0, 1, …, n-1. */
function allRows(n: number): Int32Array {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  return rows;
}

/** The set with only the named feature columns: the checking fits use the features the full fit kept. */
function withColumns(set: TrainingSet, names: readonly string[]): TrainingSet {
  const index = names.map((name) => set.table.names.indexOf(name));
  const table: FeatureTable = {
    userIds: set.table.userIds,
    names: [...names],
    columns: index.map((j) => set.table.columns[j] as Float64Array),
    missing: Object.fromEntries(names.map((name) => [name, set.table.missing[name] ?? 0])),
  };
  return { ...set, table };
}

/**
 * k-fold cross-validation: seeded folds of about equal size; each fold predicted by a model fitted on the
 * others, and by the others' average; quality pooled over every row.
 */
function crossValidate(
  set: TrainingSet,
  names: readonly string[],
  folds: number,
  seed: number,
): ValidationResult {
  const n = set.y.length;
  if (!(Number.isInteger(folds) && folds >= 2 && folds <= Math.min(20, n))) {
    throw new PredictError(`folds=${folds} is out of range; use a whole number from 2 to ${Math.min(20, n)}`);
  }
  const columns = withColumns(set, names).table.columns;
  const foldOf = seededFolds(set.table.userIds, folds, seed);
  // Shifting each column by a typical value keeps the sums small, so their differences stay exact enough.
  const shift = columns.map((col) => columnMedian(col));
  const sums = foldSums(names, columns, set.y, foldOf, folds, shift);
  const predicted = new Float64Array(n);
  const average = new Float64Array(n);
  let trained = 0;
  for (let f = 0; f < folds; f++) {
    const { train, test } = foldRows(foldOf, f);
    const scratch = new Float64Array(train.length);
    const fit = foldFit(sums, f, (j) => columnMedian(gather(columns[j] as Float64Array, train, scratch)));
    const m = mean(gather(set.y, train, new Float64Array(train.length)));
    for (const i of test) {
      let v = fit.intercept;
      for (let k = 0; k < fit.columns.length; k++) {
        const raw = (columns[fit.columns[k] as number] as Float64Array)[i] as number;
        v += (fit.beta[k] as number) * (Number.isNaN(raw) ? (fit.medians[k] as number) : raw);
      }
      predicted[i] = set.target === SPEND_TARGET && v < 0 ? 0 : v;
      average[i] = m;
    }
    trained += train.length;
  }
  const all = allRows(n);
  return {
    method: 'cv',
    n,
    trainN: Math.round(trained / folds),
    size: folds,
    ...quality(all, set.y, (i) => predicted[i] as number),
    baseline: quality(all, set.y, (i) => average[i] as number),
  };
}

/**
 * One fold's model from the fold sums, as `fitRows` would fit its training rows: constant columns out, missing
 * values filled with the training medians (`median(j)`, asked only of columns with gaps), collinear columns out
 * (the last of each group), least squares.
 */
export function foldFit(
  sums: FoldSums,
  f: number,
  median: (column: number) => number,
): { columns: number[]; beta: number[]; medians: number[]; intercept: number } {
  const constant = constantColumns(sums, f);
  const keep = sums.names.map((_, j) => j).filter((j) => !constant[j]);
  if (keep.length === 0) throw new PredictError(ALL_CONSTANT);
  const medians = sums.names.map((_, j) => (!constant[j] && hasMissing(sums, f, j) ? median(j) : 0));
  let cp = foldCrossProducts(sums, f, keep, medians);
  for (let problem = findCollinearity(cp.names, correlationOf(cp)); problem; ) {
    keep.splice(Math.max(...problem.group), 1);
    cp = foldCrossProducts(sums, f, keep, medians);
    problem = findCollinearity(cp.names, correlationOf(cp));
  }
  const fit = solveCrossProducts(cp);
  return {
    columns: keep,
    beta: fit.coefficients.map((c) => c.value),
    medians: keep.map((j) => medians[j] as number),
    intercept: fit.intercept,
  };
}

/** The correlation matrix of centred cross-products. */
export function correlationOf(cp: CrossProducts): number[][] {
  const sd = cp.sxx.map((row, j) => Math.sqrt(row[j] as number));
  return cp.sxx.map((row, a) => row.map((v, b) => v / ((sd[a] as number) * (sd[b] as number))));
}

/**
 * The fold of each row: a seeded hash of the person's id (domain/folds.ts), the rule a database applies in SQL
 * too, so both backends cross-validate on the same folds. Fold sizes are about equal, not exactly.
 */
function seededFolds(userIds: readonly string[], folds: number, seed: number): Uint8Array {
  const foldOf = new Uint8Array(userIds.length);
  for (let r = 0; r < userIds.length; r++) foldOf[r] = foldOfId(userIds[r] as string, seed, folds);
  return foldOf;
}

/** The rows outside fold f (to fit on) and inside it (to check), each in data order. */
function foldRows(foldOf: Uint8Array, f: number): { train: Int32Array; test: Int32Array } {
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < foldOf.length; i++) (foldOf[i] === f ? test : train).push(i);
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}

/** The seeded holdout: fitted on the rest, checked on the held-out share. */
function holdoutCheck(
  set: TrainingSet,
  names: readonly string[],
  share: number,
  seed: number,
): ValidationResult {
  if (!(share >= 0.05 && share <= 0.5)) {
    throw new PredictError(`holdout share ${share} is out of range; use a share between 0.05 and 0.5`);
  }
  const { train, holdout } = holdoutSplit(set.y.length, share, seed);
  const fit = fitRows(withColumns(set, names), train, false);
  const m = mean(gather(set.y, train, new Float64Array(train.length)));
  return {
    method: 'holdout',
    n: holdout.length,
    trainN: train.length,
    size: share,
    ...quality(holdout, set.y, (i) => fit.predicted[i] as number),
    baseline: quality(holdout, set.y, () => m),
  };
}

/**
 * The time split of a spend forecast: the same model fitted one window earlier (features at cutoff - 30 days,
 * spend in the 30 days before the cutoff), then asked to forecast the latest window from features at the cutoff;
 * the baseline forecasts the earlier window's average spend for everyone.
 */
function timeSplit(input: PredictInput, set: TrainingSet, model: PredictionModel): ValidationResult {
  const cutoff = set.cutoff - HORIZON;
  // The earlier window's spend is cheap and its features are not: a window the checks refuse is refused first.
  let buyers = 0;
  const spent = spendTarget(input, cutoff);
  for (const v of spent) if (v > 0) buyers++;
  checkTrainingCounts({
    target: set.target,
    cutoff,
    features: model.features.length,
    n: spent.length,
    buyers,
  });
  const earlier = buildTrainingSet(input, { target: set.target, features: model.features, cutoff });
  checkTrainingSet(earlier);
  const fit = fitRows(earlier, allRows(earlier.y.length), false);
  const { names, imputeMedians } = fit.design;
  const n = set.y.length;
  const columns = names.map((name, j) => {
    const col = (set.table.columns[set.table.names.indexOf(name)] as Float64Array).slice();
    fillMissing(col, imputeMedians[j] as number);
    return col;
  });
  const beta = fit.coefficients.map((c) => c.value);
  const predicted = predictColumns(n, columns, beta, fit.intercept, true);
  const all = allRows(n);
  const m = mean(earlier.y);
  return {
    method: 'time',
    n,
    trainN: earlier.y.length,
    size: HORIZON_DAYS,
    ...quality(all, set.y, (i) => predicted[i] as number),
    baseline: quality(all, set.y, () => m),
  };
}

/** Why a default feature set cannot be fitted: nothing in it varies. */
export const ALL_CONSTANT =
  'every default feature is constant for these users; name features with features=a,b,c';

/** Refuses a training set that cannot support an honest fit: too few rows, purchasers or features. */
function checkTrainingSet(set: TrainingSet): void {
  let buyers = 0;
  if (set.target === SPEND_TARGET) for (const v of set.y) if (v > 0) buyers++;
  checkTrainingCounts({ ...set, features: set.table.names.length, n: set.y.length, buyers });
}

/**
 * The checks of a training set from its counts alone (a database's sums carry them): features, rows, and for
 * spend the people who bought something in the target window.
 */
export function checkTrainingCounts(c: {
  target: string;
  cutoff: number;
  features: number;
  n: number;
  buyers: number;
}): void {
  if (c.features === 0) throw new PredictError('no features to learn from; name some with features=a,b,c');
  if (c.n < MIN_ROWS) {
    throw new PredictError(
      `only ${c.n} users have ${targetLabel(c.target)} data at the cutoff; a prediction needs at least ${MIN_ROWS}`,
    );
  }
  if (c.target === SPEND_TARGET && c.buyers < MIN_PURCHASERS) {
    throw new PredictError(
      `only ${c.buyers} users bought something between ${isoDay(c.cutoff)} and ${isoDay(c.cutoff + HORIZON)}; spend predictions need at least ${MIN_PURCHASERS} purchasers`,
    );
  }
}

/** Refuses more features than the rows support (ten rows per feature). */
export function checkRowsPerFeature(n: number, requested: number): void {
  if (n < ROWS_PER_FEATURE * requested) {
    throw new PredictError(
      `${n} users are too few for ${requested} features (${ROWS_PER_FEATURE} users per feature needed); use at most ${Math.floor(n / ROWS_PER_FEATURE)} features`,
    );
  }
}

/** The features the fit uses, imputed and standardised on the training users, with their correlations. */
interface Design {
  names: string[];
  /** Copies of the chosen columns, missing values filled with the training medians. */
  columns: Float64Array[];
  imputeMedians: number[];
  means: number[];
  sds: number[];
  /** The columns standardised on the training users (every row). */
  z: Float64Array[];
  corr: number[][];
  imputed: Record<string, number>;
  dropped: string[];
  /** Training rows. */
  nt: number;
}

/**
 * Constant columns out (refused by name when asked for), missing values filled with training medians,
 * columns standardised on the training users, then collinear ones out (again refused when asked for).
 */
function designColumns(set: TrainingSet, train: Int32Array, explicit: boolean): Design {
  const { names, columns, dropped } = informativeColumns(set, train, explicit);
  // Missing values: training medians, counted and reported.
  const nt = train.length;
  const imputeMedians: number[] = [];
  const imputed: Record<string, number> = {};
  const gathered = new Float64Array(nt);
  for (let j = 0; j < names.length; j++) {
    const col = columns[j] as Float64Array;
    const median = columnMedian(gather(col, train, gathered));
    imputeMedians.push(median);
    const count = fillMissing(col, median);
    if (count > 0) imputed[names[j] as string] = count;
  }
  // Standardise on the training users: the fit is better conditioned and collinearity reads off correlations.
  const means: number[] = [];
  const sds: number[] = [];
  const z: Float64Array[] = [];
  for (let j = 0; j < names.length; j++) {
    const { out, m, sd } = standardize(columns[j] as Float64Array, train);
    means.push(m);
    sds.push(sd);
    z.push(out);
  }
  const design = { names, columns, imputeMedians, means, sds, z, corr: correlation(z), imputed, dropped, nt };
  dropCollinear(design, explicit);
  return design;
}

/** Columns that carry something for the training users: the rest refused by name, or left out of the default set. */
function informativeColumns(
  set: TrainingSet,
  train: Int32Array,
  explicit: boolean,
): { names: string[]; columns: Float64Array[]; dropped: string[] } {
  const dropped: string[] = [];
  const all = set.table.names;
  const keepCols: number[] = [];
  for (let j = 0; j < all.length; j++) {
    const name = all[j] ?? '';
    const col = set.table.columns[j] ?? new Float64Array(0);
    const problem = constantProblem(name, col, train);
    if (problem === null) keepCols.push(j);
    else if (explicit) throw new PredictError(problem);
    else dropped.push(name);
  }
  if (keepCols.length === 0) throw new PredictError(ALL_CONSTANT);
  return {
    names: keepCols.map((j) => all[j] ?? ''),
    // Copies: imputation writes into the columns, and the caller's table stays as it was.
    columns: keepCols.map((j) => (set.table.columns[j] as Float64Array).slice()),
    dropped,
  };
}

/**
 * Asked-for features are refused by name; the default set instead loses the last-listed feature of each
 * redundant group (custom attributes come after the built-in ones), since the user never chose them.
 */
function dropCollinear(design: Design, explicit: boolean): void {
  const { names, columns, imputeMedians, means, sds, z, corr, imputed, dropped } = design;
  for (let problem = findCollinearity(names, corr); problem; problem = findCollinearity(names, corr)) {
    if (explicit) throw new PredictError(problem.message);
    const j = Math.max(...problem.group);
    dropped.push(names[j] as string);
    delete imputed[names[j] as string];
    for (const list of [names, columns, imputeMedians, means, sds, z, corr]) list.splice(j, 1);
    for (const row of corr) row.splice(j, 1);
  }
}

/**
 * Least squares by the normal equations of the centred, standardised design, as the library
 * (ml-regression-multivariate-linear) and R's `lm` solve it up to rounding: slopes (ZᵀZ)⁻¹Zᵀy, back in original
 * units. The collinearity check (no eigenvalue of the correlation matrix below 1e-4) keeps this exact to about 1e-12.
 * With `withErrors`, the standard errors σ²(ZᵀZ)⁻¹ too; the checking fits only need predictions (0).
 */
function normalEquations(
  design: Design,
  yTrain: Float64Array,
  withErrors: boolean,
): { coefficients: Coefficient[]; intercept: number } {
  const { names, means, sds, z, corr, nt } = design;
  const p = names.length;
  const ztzInv = inverse(new Matrix(corr.map((row) => row.map((v) => v * (nt - 1)))));
  const yMean = mean(yTrain);
  const zty = z.map((col) => {
    let sum = 0;
    for (let r = 0; r < nt; r++) sum += (col[r] as number) * ((yTrain[r] as number) - yMean);
    return sum;
  });
  const w = Float64Array.from(names, (_, j) => {
    let v = 0;
    for (let k = 0; k < p; k++) v += ztzInv.get(j, k) * (zty[k] as number);
    return v;
  });
  // The standardised columns are centred, so the intercept there is the mean of y (less rounding residue).
  let interceptScaled = yMean;
  for (let j = 0; j < p; j++) interceptScaled -= (w[j] as number) * mean(z[j] as Float64Array);
  const sigma2 = withErrors
    ? residualSumOfSquares(z, yTrain, w, interceptScaled) / Math.max(1, nt - p - 1)
    : 0;
  let intercept = interceptScaled;
  const coefficients: Coefficient[] = names.map((feature, j) => {
    const sd = sds[j] as number;
    const value = (w[j] as number) / sd;
    const stdError = withErrors ? Math.sqrt(Math.max(0, sigma2 * ztzInv.get(j, j))) / sd : 0;
    intercept -= value * (means[j] as number);
    return { feature, value, stdError, t: stdError > 0 ? value / stdError : 0, effect: value * sd };
  });
  return { coefficients, intercept };
}

/**
 * The order coefficients are shown and talked about in: clearly non-zero ones (|t| >= 2) first, then the rest,
 * each by the size of the effect of a typical difference (value × standard deviation), largest first. The
 * drivers are the first clear ones, so "what drives it" and the table below it always agree.
 */
export function rankCoefficients(coefficients: readonly Coefficient[]): Coefficient[] {
  const clear = (c: Coefficient) => (Math.abs(c.t) >= CLEAR_T ? 1 : 0);
  return [...coefficients].sort(
    (a, b) =>
      clear(b) - clear(a) || Math.abs(b.effect) - Math.abs(a.effect) || a.feature.localeCompare(b.feature),
  );
}

/** Whether a coefficient is clearly non-zero (|t| >= 2). */
export function isClear(c: Coefficient): boolean {
  return Math.abs(c.t) >= CLEAR_T;
}

/** The first clear coefficients of the ranking, in words. */
export function driversOf(
  ranked: readonly Coefficient[],
  sds: readonly number[],
  names: readonly string[],
  kinds: Record<string, AttributeKind>,
  target: string,
  currency: string,
): string[] {
  return ranked
    .filter(isClear)
    .slice(0, DRIVER_COUNT)
    .map((c) =>
      describeDriver(
        c.feature,
        c.value,
        sds[names.indexOf(c.feature)] ?? 0,
        kinds[c.feature],
        target,
        currency,
      ),
    );
}

/**
 * Scores users for the 30 days after "now" (cutoff + 30 days): features at that moment, missing values filled
 * with the training medians, spend floored at zero. Without `userIds`, everyone who existed by then.
 */
export function predictUsers(
  model: PredictionModel,
  input: PredictInput,
  userIds?: readonly string[],
): { userIds: string[]; values: Float64Array } {
  const now = model.cutoff + HORIZON;
  const table = featureTable(input, model.features, now, userIds === undefined);
  let rows: number[];
  if (userIds === undefined) {
    rows = table.userIds.map((_, i) => i);
  } else {
    const index = new Map(table.userIds.map((id, i) => [id, i]));
    rows = userIds.map((id) => {
      const i = index.get(id);
      if (i === undefined) throw new PredictError(`unknown user "${id}"`);
      return i;
    });
  }
  const p = model.features.length;
  const values = new Float64Array(rows.length);
  const clip = model.target === SPEND_TARGET;
  rows.forEach((i, r) => {
    let v = model.intercept;
    for (let j = 0; j < p; j++) {
      const raw = table.columns[j]?.[i] ?? Number.NaN;
      const x = Number.isNaN(raw) ? (model.imputeMedians[j] ?? 0) : raw;
      v += (model.coefficients[j]?.value ?? 0) * x;
    }
    values[r] = clip && v < 0 ? 0 : v;
  });
  return { userIds: rows.map((i) => table.userIds[i] ?? ''), values };
}

/** A readable name for a feature or target: `app_sessions_per_week` -> "app sessions per week". */
export function featureLabel(name: string): string {
  const known: Record<string, string> = {
    [SPEND_TARGET]: 'spend in the next 30 days',
    monetary: 'spend in the past year',
    frequency: 'purchases in the past year',
    recency_days: 'days since last purchase',
    engagement: 'engagements per week',
    log_followers: 'log10 followers',
    tenure_days: 'days since sign-up',
  };
  return own(known, name) ?? name.replace(/_/g, ' ');
}

function targetLabel(target: string): string {
  return target === SPEND_TARGET ? 'purchase' : `"${target}"`;
}

function numericAttributes(attributes: Record<string, AttributeKind>): string[] {
  return Object.keys(attributes)
    .filter((name) => attributes[name] === 'number')
    .sort();
}

/**
 * Checks requested features (known, listed once, not the target) or, without a request, picks the default set.
 * Needs profiles and products too: `interest:<name>` and `category:<name>` features come from them.
 */
export function resolveFeatures(input: PredictInput, target: string, features?: readonly string[]): string[] {
  if (features === undefined) return defaultFeatures(input.attributes, target);
  const available = availableFeatures(input.attributes, input.profiles, input.products).map((f) => f.name);
  const known = new Set(available);
  const seen = new Set<string>();
  for (const f of features) {
    if (f === target)
      throw new PredictError(`"${f}" is the target, so it cannot also be a feature; remove it from features`);
    if (seen.has(f)) throw new PredictError(`feature "${f}" is listed twice; list it once`);
    const kind = own(input.attributes, f);
    if (!known.has(f) && (kind === 'category' || kind === 'list')) {
      throw new PredictError(
        `feature "${f}" is a ${kind} attribute, not a number; use numeric, yes/no or date features`,
      );
    }
    if (!known.has(f)) {
      const guess = available.length > 0 ? closest(f, available) : '';
      const shown = available.length > 30 ? `${available.slice(0, 30).join(', ')}, …` : available.join(', ');
      throw new PredictError(
        `unknown feature "${f}"${guess ? ` (did you mean "${guess}"?)` : ''}; available: ${shown}`,
      );
    }
    seen.add(f);
  }
  return [...features];
}

function featureTable(
  input: PredictInput,
  features: string[],
  asOf: number,
  existingOnly: boolean,
): FeatureTable {
  try {
    return computeFeatures(input, features, { asOf, existingOnly });
  } catch (error) {
    if (error instanceof FeatureError) throw new PredictError(error.message);
    throw error;
  }
}

function subsetTable(table: FeatureTable, keep: readonly number[]): FeatureTable {
  const columns = table.columns.map((col) => Float64Array.from(keep, (i) => col[i] ?? Number.NaN));
  const missing: Record<string, number> = {};
  table.names.forEach((name, j) => {
    let count = 0;
    for (const v of columns[j] ?? []) if (Number.isNaN(v)) count++;
    missing[name] = count;
  });
  return { userIds: keep.map((i) => table.userIds[i] ?? ''), names: [...table.names], columns, missing };
}

/** The seeded holdout split of n rows: indices of the training and the holdout rows, each in data order. */
export function holdoutSplit(
  n: number,
  share: number,
  seed: number,
): { train: Int32Array; holdout: Int32Array } {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rng = new Rng(seed);
  const nHold = Math.max(1, Math.round(n * share));
  // A partial Fisher-Yates: the first nHold slots end up a uniform random sample.
  for (let i = 0; i < nHold; i++) {
    const j = rng.int(i, n - 1);
    const tmp = order[i] as number;
    order[i] = order[j] as number;
    order[j] = tmp;
  }
  const inHoldout = new Uint8Array(n);
  for (let i = 0; i < nHold; i++) inHoldout[order[i] as number] = 1;
  // Back in data order, so sums (and so the fit) depend on membership only, not on the shuffle.
  const holdout = new Int32Array(nHold);
  const train = new Int32Array(n - nHold);
  let h = 0;
  let t = 0;
  for (let i = 0; i < n; i++) {
    if (inHoldout[i]) holdout[h++] = i;
    else train[t++] = i;
  }
  return { train, holdout };
}

/**
 * Adds each purchase in [from, to) to its user's row of `y`. The purchase columns are in data order, so each
 * user's amounts are summed in the same order (and so to the same bits) as in a pass over the user's block, while
 * only purchases are read instead of every interaction.
 */
function spendInWindow(
  purchases: InteractionIndex['purchases'],
  rowOfKey: Int32Array,
  price: Float64Array,
  from: number,
  to: number,
  y: Float64Array,
): void {
  const { user, ts, value, item } = purchases;
  for (let q = 0; q < ts.length; q++) {
    const t = ts[q] as number;
    if (t < from || t >= to) continue;
    const i = rowOfKey[user[q] as number] as number;
    if (i < 0) continue;
    // A purchase export without amounts still says what was bought; its list price is the best guess.
    let amount = value[q] as number;
    if (Number.isNaN(amount)) {
      const key = item[q] as number;
      const listed = key >= 0 ? (price[key] as number) : Number.NaN;
      amount = Number.isNaN(listed) ? 0 : listed;
    }
    y[i] = (y[i] as number) + amount;
  }
}

// The loops of the fit live in small functions: the optimizing compiler then compiles each once and keeps it,
// where one long function with many loops is recompiled loop by loop (and deoptimized) on every call.

/** col[rows[r]] for each r, into `out`. */
function gather(col: Float64Array, rows: Int32Array, out: Float64Array): Float64Array {
  for (let r = 0; r < rows.length; r++) out[r] = col[rows[r] as number] as number;
  return out;
}

/** Replaces NaN with `value` in place; returns how many were replaced. */
function fillMissing(col: Float64Array, value: number): number {
  let count = 0;
  for (let i = 0; i < col.length; i++) {
    if (Number.isNaN(col[i] as number)) {
      col[i] = value;
      count++;
    }
  }
  return count;
}

/** The training rows of a column, z-scored with their mean and sample standard deviation. */
function standardize(col: Float64Array, train: Int32Array): { out: Float64Array; m: number; sd: number } {
  const nt = train.length;
  const out = new Float64Array(nt);
  let sum = 0;
  for (let r = 0; r < nt; r++) {
    const v = col[train[r] as number] as number;
    out[r] = v;
    sum += v;
  }
  const m = sum / nt;
  let ss = 0;
  for (let r = 0; r < nt; r++) ss += ((out[r] as number) - m) ** 2;
  const sd = Math.sqrt(ss / (nt - 1));
  for (let r = 0; r < nt; r++) out[r] = ((out[r] as number) - m) / sd;
  return { out, m, sd };
}

/** Σ (y - b0 - Σ_j w_j z_j)², the residuals formed column by column. */
function residualSumOfSquares(
  z: readonly Float64Array[],
  y: Float64Array,
  w: Float64Array,
  intercept: number,
): number {
  const nt = y.length;
  const residual = new Float64Array(nt);
  for (let r = 0; r < nt; r++) residual[r] = (y[r] as number) - intercept;
  for (let j = 0; j < z.length; j++) subtractScaled(residual, z[j] as Float64Array, w[j] as number);
  let rss = 0;
  for (let r = 0; r < nt; r++) rss += (residual[r] as number) ** 2;
  return rss;
}

/** acc[i] -= w · x[i]. */
function subtractScaled(acc: Float64Array, x: Float64Array, w: number): void {
  for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) - w * (x[i] as number);
}

/** intercept + Σ_j beta_j · columns_j, column by column, floored at zero when asked. */
function predictColumns(
  n: number,
  columns: readonly Float64Array[],
  beta: readonly number[],
  intercept: number,
  floorAtZero: boolean,
): Float64Array {
  const predicted = new Float64Array(n).fill(intercept);
  for (let j = 0; j < columns.length; j++)
    addScaled(predicted, columns[j] as Float64Array, beta[j] as number);
  if (floorAtZero) for (let i = 0; i < n; i++) if ((predicted[i] as number) < 0) predicted[i] = 0;
  return predicted;
}

/** acc[i] += b · x[i]. */
function addScaled(acc: Float64Array, x: Float64Array, b: number): void {
  for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + b * (x[i] as number);
}

function constantProblem(name: string, col: Float64Array, rows: Int32Array): string | null {
  let first = Number.NaN;
  let varies = false;
  for (const i of rows) {
    const v = col[i] ?? Number.NaN;
    if (Number.isNaN(v)) continue;
    if (Number.isNaN(first)) first = v;
    else if (v !== first) {
      varies = true;
      break;
    }
  }
  return constantMessage(name, first, varies);
}

/**
 * Why a column cannot be a feature, from its first value present (NaN: none) and whether any other differs; null
 * when it can.
 */
export function constantMessage(name: string, first: number, varies: boolean): string | null {
  if (Number.isNaN(first)) return `feature "${name}" has no values for these users; drop it`;
  if (!varies)
    return `feature "${name}" is the same (${first}) for every user, so it cannot explain differences; drop it`;
  return null;
}

function correlation(z: readonly Float64Array[]): number[][] {
  const p = z.length;
  const n = z[0]?.length ?? 0;
  const out = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  for (let a = 0; a < p; a++) {
    const za = z[a] ?? new Float64Array(0);
    for (let b = a; b < p; b++) {
      const zb = z[b] ?? new Float64Array(0);
      let s = 0;
      for (let i = 0; i < n; i++) s += (za[i] ?? 0) * (zb[i] ?? 0);
      const r = s / (n - 1);
      (out[a] as number[])[b] = r;
      (out[b] as number[])[a] = r;
    }
  }
  return out;
}

/** A near-exact linear relation between features: the message for the user and the indices involved. */
export interface Collinearity {
  message: string;
  group: number[];
}

/** The first near-exact linear relation among the columns whose correlation matrix is `corr`, or null. */
export function findCollinearity(names: readonly string[], corr: number[][]): Collinearity | null {
  const p = names.length;
  for (let a = 0; a < p; a++) {
    for (let b = a + 1; b < p; b++) {
      const r = corr[a]?.[b] ?? 0;
      if (Math.abs(r) >= MAX_PAIR_CORRELATION) {
        return {
          message: `features "${names[a]}" and "${names[b]}" are collinear (correlation ${r.toFixed(4)}): they carry the same information, keep one`,
          group: [a, b],
        };
      }
    }
  }
  if (p < 3) return null;
  const evd = new EigenvalueDecomposition(new Matrix(corr), { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  let k = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] ?? 0) < (values[k] ?? 0)) k = i;
  if ((values[k] ?? 1) >= MIN_CORRELATION_EIGENVALUE) return null;
  // The eigenvector of the tiny eigenvalue is the near-exact linear relation; its big loadings name the group.
  const group = evd.eigenvectorMatrix
    .getColumn(k)
    .map((v, i) => ({ v: Math.abs(v), i }))
    .filter((x) => x.v >= 0.1)
    .sort((x, y) => y.v - x.v)
    .map((x) => x.i);
  return {
    message: `features ${listWords(group.map((i) => `"${names[i]}"`))} are collinear (one is a combination of the others), so their effects cannot be told apart; drop one`,
    group,
  };
}

/** R², MAE and RMSE of `predict` on the rows. */
function quality(rows: Int32Array, y: Float64Array, predict: (i: number) => number): FitQuality {
  let sum = 0;
  for (const i of rows) sum += y[i] ?? 0;
  const m = rows.length > 0 ? sum / rows.length : 0;
  let sse = 0;
  let sst = 0;
  let sae = 0;
  for (const i of rows) {
    const actual = y[i] ?? 0;
    const e = actual - predict(i);
    sse += e * e;
    sae += Math.abs(e);
    sst += (actual - m) ** 2;
  }
  const count = Math.max(1, rows.length);
  return { r2: sst > 0 ? 1 - sse / sst : 0, mae: sae / count, rmse: Math.sqrt(sse / count) };
}

function mean(values: Float64Array): number {
  let s = 0;
  for (const v of values) s += v;
  return values.length > 0 ? s / values.length : 0;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function listWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** The step a driver sentence talks about: 1 unit, or a round power of ten near one standard deviation. */
function niceStep(sd: number): number {
  if (!(sd > 0) || (sd >= 0.5 && sd <= 20)) return 1;
  return 10 ** Math.floor(Math.log10(sd));
}

function describeDriver(
  feature: string,
  coefficient: number,
  sd: number,
  kind: AttributeKind | undefined,
  target: string,
  currency: string,
): string {
  const spend = target === SPEND_TARGET;
  const amount = (v: number) => (spend ? formatMoney(Math.abs(v), currency) : trimNumber(Math.abs(v)));
  const effect = (v: number) => {
    if (spend)
      return v >= 0
        ? `adds ${amount(v)} in the next 30 days`
        : `cuts ${amount(v)} from the next 30 days' spend`;
    return v >= 0
      ? `adds ${amount(v)} to ${featureLabel(target)}`
      : `lowers ${featureLabel(target)} by ${amount(v)}`;
  };
  const group = (who: string) =>
    spend
      ? `${who} spend ${amount(coefficient)} ${coefficient >= 0 ? 'more' : 'less'} in the next 30 days`
      : `${who} have a ${featureLabel(target)} ${amount(coefficient)} ${coefficient >= 0 ? 'higher' : 'lower'}`;
  if (kind === 'boolean') return group(`Users with ${featureLabel(feature)} = yes`);
  if (feature.startsWith('interest:'))
    return group(`Users interested in ${feature.slice('interest:'.length)}`);
  // log_followers is log10(1 + followers): a doubling is log10(2) of a unit, and easier to picture than a unit.
  if (feature === 'log_followers') return `Doubling followers ${effect(coefficient * Math.log10(2))}`;
  const step = niceStep(sd);
  return `${driverSubject(feature, step, kind, currency)} ${effect(coefficient * step)}`;
}

function driverSubject(
  feature: string,
  step: number,
  kind: AttributeKind | undefined,
  currency: string,
): string {
  const n = trimNumber(step);
  const extra = (one: string, many: string) =>
    step === 1 ? `Each extra ${one}` : `Every ${n} extra ${many}`;
  const money = formatMoney(step, currency).replace('.00', '');
  switch (feature) {
    case 'monetary':
      return `Every extra ${money} spent in the past year`;
    case 'avg_order_value':
      return `Every extra ${money} on the average order`;
    case 'frequency':
      return extra('purchase in the past year', 'purchases in the past year');
    case 'recency_days':
      return extra('day since the last purchase', 'days since the last purchase');
    case 'tenure_days':
      return extra('day since sign-up', 'days since sign-up');
    case 'followers':
      return extra('follower', 'followers');
    case 'engagement':
      return extra('like, share, comment or click per week', 'likes, shares, comments or clicks per week');
    case 'engagement_rate':
      return `Every +${n} engagements per view`;
    case 'age':
      return extra('year of age', 'years of age');
    default:
      break;
  }
  if (feature.startsWith('category:')) {
    return `Every ${trimNumber(step * 100)}% more of purchases in ${feature.slice('category:'.length)}`;
  }
  const label = featureLabel(feature);
  if (kind === 'date') return extra(`day since ${label}`, `days since ${label}`);
  const per = feature.indexOf('_per_');
  if (per > 0) {
    const words = feature.slice(0, per).split('_');
    const last = words.pop() ?? '';
    const unit = step === 1 ? [...words, singular(last)].join(' ') : [...words, last].join(' ');
    return `${step === 1 ? 'Each extra' : `Every ${n} extra`} ${unit} per ${feature.slice(per + 5).replace(/_/g, ' ')}`;
  }
  return step === 1 ? `Each +1 in ${label}` : `Every +${n} in ${label}`;
}

function singular(word: string): string {
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (/(ss|x|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

function trimNumber(v: number): string {
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return String(Number(v.toPrecision(3)));
}
