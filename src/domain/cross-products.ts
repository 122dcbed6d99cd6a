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
