/**
 * The sufficient statistics of a least-squares fit, as a database aggregates them (X'X and X'y over every
 * training row, centred on the means, after missing values are filled with each column's median) so the app can
 * solve the fit without reading a row: the PostgreSQL backend builds them in SQL, the engine solves them
 * (src/engine/ols-sums.ts) to the same coefficients as its own fit on the rows.
 */

/** Centred cross-products of a design: feature j of row r is x_rj, the target y_r. */
export interface CrossProducts {
  /** Training rows. */
  n: number;
  /** Feature names, in column order. */
  names: string[];
  /** Column means after imputation, and the target's mean. */
  means: number[];
  yMean: number;
  /** The median each column's missing values were filled with, and how many were. */
  medians: number[];
  imputed: number[];
  /** Σ (x_j - m_j)(x_k - m_k), p × p. */
  sxx: number[][];
  /** Σ (x_j - m_j)(y - m_y). */
  sxy: number[];
  /** Σ (y - m_y)². */
  syy: number;
}

/** A training set's cross-products with what the fit's checks read besides them. */
export interface TrainingSums extends CrossProducts {
  /** Rows whose target is above zero (purchasers, for spend). */
  positives: number;
  /** Smallest and largest value present per column (NaN when none is): equal means the column is constant. */
  mins: number[];
  maxs: number[];
}

/**
 * A fitted linear score as a database applies it to rows: intercept + Σ coefficient · value, a missing value
 * replaced by the column's median; floored at zero when the target is spend.
 */
export interface LinearScore {
  names: string[];
  coefficients: number[];
  intercept: number;
  medians: number[];
}

/** The score of some rows (a cross-validation fold's, or every row's with `fold` null) and the average guess. */
export interface FoldScore {
  fold: number | null;
  score: LinearScore;
  /** The training rows' mean target: the baseline's guess for these rows. */
  baseline: number;
}

/** Error sums of scored rows (each predicted by its fold's score) and of the average guess on them. */
export interface ErrorSums {
  n: number;
  /** Σ (y - ȳ)² over the scored rows. */
  sst: number;
  /** Σ (y - ŷ)² and Σ |y - ŷ|. */
  sse: number;
  sae: number;
  /** The same for the baseline's guess. */
  baseSse: number;
  baseSae: number;
}

/**
 * Sums over some rows of shifted columns x - c (missing values apart), split by which values are missing, and of
 * the target: what the engine's cross-validation (engine/fold-sums.ts) needs per fold, from memory or from SQL.
 */
export interface PatternSums {
  n: number;
  sy: number;
  syy: number;
  /** Per column: observed count, Σ x, Σ x·y over the observed rows, Σ y over the rows where it is missing. */
  count: Float64Array;
  sx: Float64Array;
  sxy: Float64Array;
  syMissing: Float64Array;
  /** Per column, the smallest and largest observed (shifted) value. */
  min: Float64Array;
  max: Float64Array;
  /** p × p, row-major: Σ x_a x_b (both observed), Σ x_a (a observed, b missing), count (both missing). */
  sxx: Float64Array;
  sxMissing: Float64Array;
  bothMissing: Float64Array;
}

/** A training set's rows and columns at a glance: what the fit reads before its one pass of sums. */
export interface ColumnStats {
  n: number;
  /** Rows whose target is above zero. */
  positives: number;
  /** Per column: mean of the values present, values missing, and the median of those present (0 for a column
   * that is never missing, whose median fills nothing). */
  means: number[];
  missing: number[];
  medians: number[];
}
