/**
 * Least squares from centred cross-products (src/domain/cross-products.ts) instead of rows: a database sums X'X
 * and X'y over every row, and this solves them. The coefficients, their standard errors and the intercept are
 * those of the engine's fit on the rows (predict.ts: standardised design, then back in original units), since
 * standardising changes neither the least-squares solution nor its covariance in original units.
 */
import { inverse, Matrix } from 'ml-matrix';
import type { CrossProducts } from '../domain/cross-products.ts';

/** A coefficient of the sums' fit, in the original units of its feature. */
export interface SumsCoefficient {
  feature: string;
  value: number;
  stdError: number;
  t: number;
}

/** The fit: coefficients in column order, intercept, and the residual sum of squares. */
export interface SumsFit {
  coefficients: SumsCoefficient[];
  intercept: number;
  rss: number;
  n: number;
}

/** Solves the least-squares fit the cross-products describe. */
export function solveCrossProducts(cp: CrossProducts): SumsFit {
  const p = cp.names.length;
  if (cp.n <= p + 1) throw new Error(`${cp.n} rows cannot fit ${p} coefficients and an intercept`);
  // Scaled to a correlation-like matrix first: columns in very different units (money, days, counts) would
  // otherwise make the inverse needlessly inexact.
  const scale = cp.sxx.map((row, j) => Math.sqrt(row[j] ?? 0));
  if (scale.some((s) => !(s > 0))) throw new Error('a feature is constant over the training rows');
  const scaled = new Matrix(
    cp.sxx.map((row, j) => row.map((v, k) => v / ((scale[j] ?? 1) * (scale[k] ?? 1)))),
  );
  const inv = inverse(scaled);
  const beta = cp.names.map((_, j) => {
    let b = 0;
    for (let k = 0; k < p; k++) b += inv.get(j, k) * ((cp.sxy[k] ?? 0) / (scale[k] ?? 1));
    return b / (scale[j] ?? 1);
  });
  let explained = 0;
  for (let j = 0; j < p; j++) explained += (beta[j] ?? 0) * (cp.sxy[j] ?? 0);
  const rss = Math.max(0, cp.syy - explained);
  const sigma2 = rss / Math.max(1, cp.n - p - 1);
  const coefficients = cp.names.map((feature, j) => {
    const value = beta[j] ?? 0;
    const stdError = Math.sqrt(Math.max(0, (sigma2 * inv.get(j, j)) / (scale[j] ?? 1) ** 2));
    return { feature, value, stdError, t: stdError > 0 ? value / stdError : 0 };
  });
  let intercept = cp.yMean;
  for (let j = 0; j < p; j++) intercept -= (beta[j] ?? 0) * (cp.means[j] ?? 0);
  return { coefficients, intercept, rss, n: cp.n };
}
