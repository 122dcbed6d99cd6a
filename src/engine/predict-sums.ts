/**
 * The prediction fit (predict.ts) from sums instead of rows: a database aggregates each training set's centred
 * cross-products (with medians, value ranges and purchasers) and each check's error sums, and these pure
 * functions make the same decisions on them as `fitTrainingSet` makes on the rows: the same refusals, the same
 * constant and collinear features left out, coefficients and standard errors solved from the sums
 * (ols-sums.ts), the same drivers, quality measured the same way. The caller (src/queries/prediction-sql.ts)
 * asks the database for the sums between the steps.
 */
import type {
  ColumnStats,
  ErrorSums,
  LinearScore,
  PatternSums,
  TrainingSums,
} from '../domain/cross-products.ts';
import type { AttributeKind } from '../domain/types.ts';
import { type FoldSums, foldCrossProducts, foldSumsOf } from './fold-sums.ts';
import { solveCrossProducts } from './ols-sums.ts';
import {
  ALL_CONSTANT,
  type Coefficient,
  constantMessage,
  correlationOf,
  driversOf,
  type FitQuality,
  findCollinearity,
  HORIZON_DAYS,
  PredictError,
  type PredictionModel,
  rankCoefficients,
  type ValidationResult,
} from './predict.ts';

/**
 * A training set's sums from a database's pass over it: its column stats (the shift is their means) and its
 * pattern sums per fold (or of all rows as one). Returns the set's training sums with its missing values filled
 * with the medians, and the fold sums for cross-validation.
 */
export function setSumsOf(
  names: readonly string[],
  stats: ColumnStats,
  perFold: readonly PatternSums[],
): { sums: TrainingSums; folds: FoldSums } {
  const folds = foldSumsOf(names, stats.means, perFold);
  const { total } = folds;
  const all = names.map((_, j) => j);
  const cp = foldCrossProducts({ ...folds, train: [total] }, 0, all, stats.medians);
  const orNaN = (v: number, j: number) =>
    (total.count[j] as number) > 0 ? v + (stats.means[j] as number) : Number.NaN;
  return {
    sums: {
      ...cp,
      positives: stats.positives,
      mins: all.map((j) => orNaN(total.min[j] as number, j)),
      maxs: all.map((j) => orNaN(total.max[j] as number, j)),
    },
    folds,
  };
}

/** A training set's sums narrowed to the features a fit keeps, and the features it left out. */
export interface SumsDesign {
  sums: TrainingSums;
  dropped: string[];
}

/**
 * The features a fit on these sums uses: constant ones (or ones without values) refused by name when asked for
 * (`explicit`), else left out; then near-collinear ones the same way (the last-listed of each group goes).
 */
export function designFromSums(sums: TrainingSums, explicit: boolean): SumsDesign {
  const dropped: string[] = [];
  let keep: number[] = [];
  sums.names.forEach((name, j) => {
    const present = sums.n - (sums.imputed[j] ?? 0);
    const min = sums.mins[j] ?? Number.NaN;
    const problem = constantMessage(name, present > 0 ? min : Number.NaN, min !== sums.maxs[j]);
    if (problem === null) keep.push(j);
    else if (explicit) throw new PredictError(problem);
    else dropped.push(name);
  });
  if (keep.length === 0) throw new PredictError(ALL_CONSTANT);
  for (;;) {
    const names = keep.map((j) => sums.names[j] as string);
    const problem = findCollinearity(names, correlationOf(narrowSums(sums, keep)));
    if (!problem) break;
    if (explicit) throw new PredictError(problem.message);
    const drop = Math.max(...problem.group);
    dropped.push(names[drop] as string);
    keep = keep.filter((_, i) => i !== drop);
  }
  return { sums: narrowSums(sums, keep), dropped };
}

/** The sums of the columns `keep`, in that order. */
export function narrowSums(sums: TrainingSums, keep: readonly number[]): TrainingSums {
  const pick = <T>(list: readonly T[]) => keep.map((j) => list[j] as T);
  return {
    ...sums,
    names: pick(sums.names),
    means: pick(sums.means),
    medians: pick(sums.medians),
    imputed: pick(sums.imputed),
    mins: pick(sums.mins),
    maxs: pick(sums.maxs),
    sxx: keep.map((j) => pick(sums.sxx[j] ?? [])),
    sxy: pick(sums.sxy),
  };
}

/** The least-squares fit of a design, as a database applies it (see LinearScore), with its coefficients. */
export interface SumsFit {
  score: LinearScore;
  coefficients: Coefficient[];
  /** Sample standard deviation of each kept feature. */
  sds: number[];
}

/** Solves a design's sums: coefficients with standard errors and effects, and the score to apply in SQL. */
export function fitSums(design: SumsDesign): SumsFit {
  const { sums } = design;
  let solved: ReturnType<typeof solveCrossProducts>;
  try {
    solved = solveCrossProducts(sums);
  } catch (error) {
    throw new PredictError(`the features cannot be fitted on these users: ${(error as Error).message}`);
  }
  const sds = sums.names.map((_, j) => Math.sqrt((sums.sxx[j]?.[j] ?? 0) / Math.max(1, sums.n - 1)));
  const coefficients = solved.coefficients.map((c, j) => ({ ...c, effect: c.value * (sds[j] ?? 0) }));
  return {
    score: {
      names: [...sums.names],
      coefficients: coefficients.map((c) => c.value),
      intercept: solved.intercept,
      medians: [...sums.medians],
    },
    coefficients,
    sds,
  };
}

/** R², MAE and RMSE of a check's scored rows, and of the average guess on them. */
export function qualityOfSums(e: ErrorSums): { quality: FitQuality; baseline: FitQuality } {
  const count = Math.max(1, e.n);
  const of = (sse: number, sae: number): FitQuality => ({
    r2: e.sst > 0 ? 1 - sse / e.sst : 0,
    mae: sae / count,
    rmse: Math.sqrt(sse / count),
  });
  return { quality: of(e.sse, e.sae), baseline: of(e.baseSse, e.baseSae) };
}

/** A cross-validation's result from its pooled error sums: every row predicted by the fold fit without it. */
export function crossValidationOfSums(e: ErrorSums, folds: number, trainRows: number): ValidationResult {
  const { quality, baseline } = qualityOfSums(e);
  return { method: 'cv', n: e.n, trainN: Math.round(trainRows / folds), size: folds, ...quality, baseline };
}

/** A time split's result: the earlier window's fit (on `trainN` rows) checked on the latest window's rows. */
export function timeSplitOfSums(e: ErrorSums, trainN: number): ValidationResult {
  const { quality, baseline } = qualityOfSums(e);
  return { method: 'time', n: e.n, trainN, size: HORIZON_DAYS, ...quality, baseline };
}

/** What a model from sums says about itself besides its fit. */
export interface SumsModelInfo {
  target: string;
  cutoff: number;
  asOf: number;
  currency: string;
  kinds: Record<string, AttributeKind>;
  /** Quality on every training row (an error-sums pass with the full fit). */
  inSample: FitQuality;
  validation: ValidationResult | null;
}

/** The prediction model `fitTrainingSet` would return for the same data, from the full fit on the sums. */
export function modelFromSums(design: SumsDesign, fit: SumsFit, info: SumsModelInfo): PredictionModel {
  const { sums } = design;
  const names = [...sums.names];
  const imputed: Record<string, number> = {};
  names.forEach((name, j) => {
    const count = sums.imputed[j] ?? 0;
    if (count > 0) imputed[name] = count;
  });
  const ranked = rankCoefficients(fit.coefficients);
  return {
    target: info.target,
    features: names,
    dropped: design.dropped,
    cutoff: info.cutoff,
    asOf: info.asOf,
    intercept: fit.score.intercept,
    coefficients: fit.coefficients,
    means: [...sums.means],
    imputeMedians: [...sums.medians],
    validation: info.validation,
    inSample: info.inSample,
    drivers: driversOf(ranked, fit.sds, names, info.kinds, info.target, info.currency),
    imputed,
    n: sums.n,
  };
}

/** Fold sums over the columns `names` only (in that order), for the fits of a design that left some out. */
export function narrowFoldSums(sums: FoldSums, names: readonly string[]): FoldSums {
  const keep = names.map((name) => sums.names.indexOf(name));
  const p = sums.names.length;
  const pick = (list: Float64Array) => Float64Array.from(keep, (j) => list[j] as number);
  const square = (list: Float64Array) =>
    Float64Array.from({ length: keep.length * keep.length }, (_, i) => {
      const a = keep[Math.floor(i / keep.length)] as number;
      const b = keep[i % keep.length] as number;
      return list[a * p + b] as number;
    });
  const narrow = (s: PatternSums): PatternSums => ({
    ...s,
    count: pick(s.count),
    sx: pick(s.sx),
    sxy: pick(s.sxy),
    syMissing: pick(s.syMissing),
    min: pick(s.min),
    max: pick(s.max),
    sxx: square(s.sxx),
    sxMissing: square(s.sxMissing),
    bothMissing: square(s.bothMissing),
  });
  return {
    folds: sums.folds,
    names: [...names],
    shift: keep.map((j) => sums.shift[j] as number),
    train: sums.train.map(narrow),
    total: narrow(sums.total),
  };
}
