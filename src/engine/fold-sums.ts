/**
 * The cross-products of every cross-validation fold's training rows from one pass over the rows. Each fold's
 * model imputes missing values with its own training medians, so the pass keeps, per fold and pair of columns,
 * the sums split by which of the two values is missing; filling in a fold's medians afterwards gives exactly the
 * X'X and X'y of its imputed training rows. Refitting k times on (k-1)/k of the rows becomes one pass plus k
 * small solves.
 */
import type { CrossProducts, PatternSums } from '../domain/cross-products.ts';

function emptySums(p: number): PatternSums {
  return {
    n: 0,
    sy: 0,
    syy: 0,
    count: new Float64Array(p),
    sx: new Float64Array(p),
    sxy: new Float64Array(p),
    syMissing: new Float64Array(p),
    min: new Float64Array(p).fill(Number.POSITIVE_INFINITY),
    max: new Float64Array(p).fill(Number.NEGATIVE_INFINITY),
    sxx: new Float64Array(p * p),
    sxMissing: new Float64Array(p * p),
    bothMissing: new Float64Array(p * p),
  };
}

/** Adds one row (shifted values in `x`, NaN = missing) to the sums. */
function addRow(s: PatternSums, x: Float64Array, y: number): void {
  const p = x.length;
  s.n++;
  s.sy += y;
  s.syy += y * y;
  for (let a = 0; a < p; a++) {
    const xa = x[a] as number;
    const row = a * p;
    if (Number.isNaN(xa)) {
      s.syMissing[a] = (s.syMissing[a] as number) + y;
      for (let b = 0; b < p; b++)
        if (Number.isNaN(x[b] as number)) s.bothMissing[row + b] = (s.bothMissing[row + b] as number) + 1;
      continue;
    }
    s.count[a] = (s.count[a] as number) + 1;
    s.sx[a] = (s.sx[a] as number) + xa;
    s.sxy[a] = (s.sxy[a] as number) + xa * y;
    if (xa < (s.min[a] as number)) s.min[a] = xa;
    if (xa > (s.max[a] as number)) s.max[a] = xa;
    for (let b = 0; b < p; b++) {
      const xb = x[b] as number;
      if (Number.isNaN(xb)) s.sxMissing[row + b] = (s.sxMissing[row + b] as number) + xa;
      else s.sxx[row + b] = (s.sxx[row + b] as number) + xa * xb;
    }
  }
}

/** a - b, field by field (the training rows of a fold: all rows minus the fold's own). */
function minus(
  a: PatternSums,
  b: PatternSums,
  minMax: { min: Float64Array; max: Float64Array },
): PatternSums {
  const sub = (x: Float64Array, y: Float64Array) => Float64Array.from(x, (v, i) => v - (y[i] as number));
  return {
    n: a.n - b.n,
    sy: a.sy - b.sy,
    syy: a.syy - b.syy,
    count: sub(a.count, b.count),
    sx: sub(a.sx, b.sx),
    sxy: sub(a.sxy, b.sxy),
    syMissing: sub(a.syMissing, b.syMissing),
    min: minMax.min,
    max: minMax.max,
    sxx: sub(a.sxx, b.sxx),
    sxMissing: sub(a.sxMissing, b.sxMissing),
    bothMissing: sub(a.bothMissing, b.bothMissing),
  };
}

/** Per-fold sums of a design, ready to give each fold's training cross-products for any medians. */
export interface FoldSums {
  folds: number;
  names: string[];
  /** The shift c of each column (the sums are of x - c, for accuracy). */
  shift: number[];
  /** Training-row sums per fold. */
  train: PatternSums[];
  /** Sums of every row. */
  total: PatternSums;
}

/**
 * One pass over the rows: each row's sums go to its fold; fold f's training sums are then the total minus fold f.
 * The columns are shifted by `shift` first (a typical value of each), so the sums stay small and exact enough.
 */
export function foldSums(
  names: readonly string[],
  columns: readonly Float64Array[],
  y: Float64Array,
  foldOf: Uint8Array,
  folds: number,
  shift: readonly number[],
): FoldSums {
  const p = columns.length;
  const perFold = Array.from({ length: folds }, () => emptySums(p));
  const x = new Float64Array(p);
  for (let i = 0; i < y.length; i++) {
    for (let j = 0; j < p; j++) x[j] = ((columns[j] as Float64Array)[i] as number) - (shift[j] as number);
    addRow(perFold[foldOf[i] as number] as PatternSums, x, y[i] as number);
  }
  return foldSumsOf(names, shift, perFold);
}

/**
 * The fold sums from each fold's own sums (a database aggregates them per fold in one pass): fold f's training
 * sums are the total minus fold f's. One fold given: its sums are the training sums (no cross-validation).
 */
export function foldSumsOf(
  names: readonly string[],
  shift: readonly number[],
  perFold: readonly PatternSums[],
): FoldSums {
  const p = names.length;
  const total = emptySums(p);
  for (const s of perFold) addInto(total, s);
  const train =
    perFold.length === 1 ? [total] : perFold.map((own, f) => minus(total, own, trainingRange(perFold, f, p)));
  return { folds: perFold.length, names: [...names], shift: [...shift], train, total };
}

function addInto(acc: PatternSums, s: PatternSums): void {
  acc.n += s.n;
  acc.sy += s.sy;
  acc.syy += s.syy;
  for (const key of ['count', 'sx', 'sxy', 'syMissing', 'sxx', 'sxMissing', 'bothMissing'] as const) {
    const into = acc[key];
    const from = s[key];
    for (let i = 0; i < into.length; i++) into[i] = (into[i] as number) + (from[i] as number);
  }
}

/** The observed range of each column over every fold but f. */
function trainingRange(perFold: readonly PatternSums[], f: number, p: number) {
  const min = new Float64Array(p).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(p).fill(Number.NEGATIVE_INFINITY);
  perFold.forEach((s, g) => {
    if (g === f) return;
    for (let j = 0; j < p; j++) {
      if ((s.min[j] as number) < (min[j] as number)) min[j] = s.min[j] as number;
      if ((s.max[j] as number) > (max[j] as number)) max[j] = s.max[j] as number;
    }
  });
  return { min, max };
}

/** Columns of fold f's training rows that are constant or have no observed value (they carry nothing). */
export function constantColumns(sums: FoldSums, f: number): boolean[] {
  const s = sums.train[f] as PatternSums;
  return sums.names.map((_, j) => !((s.count[j] as number) > 0) || s.min[j] === s.max[j]);
}

/** Whether column j has missing values among fold f's training rows (so its median is needed). */
export function hasMissing(sums: FoldSums, f: number, j: number): boolean {
  const s = sums.train[f] as PatternSums;
  return (s.count[j] as number) < s.n;
}

/**
 * Fold f's training cross-products over the columns `keep`, their missing values filled with `medians`
 * (original units, one per column of the sums): centred X'X, X'y and y'y, as `solveCrossProducts` takes them.
 */
export function foldCrossProducts(
  sums: FoldSums,
  f: number,
  keep: readonly number[],
  medians: readonly number[],
): CrossProducts {
  const s = sums.train[f] as PatternSums;
  const p = sums.names.length;
  const n = s.n;
  const m = medians.map((v, j) => v - (sums.shift[j] as number));
  // Imputed column sums: observed values plus the median for each missing one.
  const sx = keep.map((a) => (s.sx[a] as number) + (n - (s.count[a] as number)) * (m[a] as number));
  const means = keep.map((a, k) => (sx[k] as number) / n + (sums.shift[a] as number));
  const sxx = keep.map((a, ka) =>
    keep.map((b, kb) => {
      const ab = a * p + b;
      const raw =
        (s.sxx[ab] as number) +
        (m[b] as number) * (s.sxMissing[ab] as number) +
        (m[a] as number) * (s.sxMissing[b * p + a] as number) +
        (m[a] as number) * (m[b] as number) * (s.bothMissing[ab] as number);
      return raw - ((sx[ka] as number) * (sx[kb] as number)) / n;
    }),
  );
  const sxy = keep.map(
    (a, k) =>
      (s.sxy[a] as number) + (m[a] as number) * (s.syMissing[a] as number) - ((sx[k] as number) * s.sy) / n,
  );
  return {
    n,
    names: keep.map((a) => sums.names[a] as string),
    means,
    yMean: s.sy / n,
    medians: keep.map((a) => medians[a] as number),
    imputed: keep.map((a) => n - (s.count[a] as number)),
    sxx,
    sxy,
    syy: s.syy - (s.sy * s.sy) / n,
  };
}
