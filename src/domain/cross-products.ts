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
