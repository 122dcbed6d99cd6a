/**
 * Taste classes: a mixture of multinomials over product categories, fitted by EM.
 *
 * Each user's weighted interactions per category are counts x_u; class k has a category distribution θ_k
 * and a share π_k. The posterior P(k|u) ∝ π_k · Π_c θ_kc^{x_uc} multiplies the evidence of every
 * interaction, so a user with a dozen views mostly in Beauty and Fashion is recognised as that kind of
 * shopper, and P̂(c|u) = Σ_k P(k|u) θ_kc shrinks their noisy category mix toward the nearest learned
 * taste instead of toward the audience average. Pure, seeded and deterministic.
 */
import { createRng } from '../domain/random.ts';

/** Per-user category evidence in CSR form: row u has categories cats[start[u]..start[u+1]) with counts. */
export interface CategoryCounts {
  rows: number;
  start: Int32Array;
  cats: Int32Array;
  counts: Float64Array;
}

/** A fitted mixture, plain JSON. */
export interface TasteClasses {
  /** π_k. */
  prior: number[];
  /** θ_kc, one row per class over the categories. */
  categoryProbs: number[][];
  iterations: number;
}

/** Fitting options; `maxRows` caps the users EM runs on (a seeded sample), which bounds the build time. */
export interface FitTasteOptions {
  classes: number;
  seed: number;
  maxIterations?: number;
  tolerance?: number;
  maxRows?: number;
  /**
   * `data` is already the sample: its rows with evidence are the ones a draw among `population` rows with evidence
   * picked (`tasteSample`), in that order. The fit is then the one on the whole data.
   */
  population?: number;
}

/** Positions (among rows with evidence) of the rows EM runs on, or null for all of them (see `population`). */
export function tasteSample(
  population: number,
  options: Pick<FitTasteOptions, 'seed' | 'maxRows'>,
): Int32Array | null {
  const maxRows = options.maxRows ?? MAX_ROWS;
  return population > maxRows ? createRng(options.seed).sampleIndices(population, maxRows) : null;
}

// Ten thousand users pin down a handful of category mixes; more only costs build time.
const MAX_ROWS = 10_000;

const PSEUDO_COUNT = 0.5;

/** Fits taste classes on the rows with any evidence; with too little data it returns one class (the audience mix). */
export function fitTasteClasses(data: CategoryCounts, nCats: number, options: FitTasteOptions): TasteClasses {
  const rng = createRng(options.seed);
  let rows: number[] = [];
  for (let u = 0; u < data.rows; u++) {
    if ((data.start[u + 1] as number) > (data.start[u] as number)) rows.push(u);
  }
  const maxRows = options.maxRows ?? MAX_ROWS;
  if (options.population !== undefined) {
    // The same draw as on the whole data, so the rest of the stream (the seeding) is the same too.
    if (options.population > maxRows) rng.sampleIndices(options.population, maxRows);
  } else if (rows.length > maxRows) {
    const picked = rng.sampleIndices(rows.length, maxRows);
    rows = Array.from(picked, (k) => rows[k] as number);
  }
  const k = Math.max(1, Math.min(Math.floor(options.classes), Math.floor(rows.length / 50)));
  if (nCats === 0) return { prior: [1], categoryProbs: [[]], iterations: 0 };

  const theta = initialise(data, rows, nCats, k, rng);
  const prior = new Float64Array(k).fill(1 / k);
  const logTheta = new Float64Array(k * nCats);
  const logPrior = new Float64Array(k);
  const resp = new Float64Array(k);
  const nextTheta = new Float64Array(k * nCats);
  const nextPrior = new Float64Array(k);
  const maxIterations = options.maxIterations ?? 40;
  const tolerance = options.tolerance ?? 1e-5;
  let previous = Number.NEGATIVE_INFINITY;
  let iterations = 0;
  for (let iter = 0; iter < maxIterations; iter++) {
    iterations = iter + 1;
    for (let j = 0; j < k * nCats; j++) logTheta[j] = Math.log(theta[j] as number);
    for (let c = 0; c < k; c++) logPrior[c] = Math.log(prior[c] as number);
    nextTheta.fill(PSEUDO_COUNT);
    nextPrior.fill(1);
    let logLik = 0;
    for (const u of rows) {
      logLik += responsibilities(data, u, nCats, k, logTheta, logPrior, resp);
      const from = data.start[u] as number;
      const to = data.start[u + 1] as number;
      for (let c = 0; c < k; c++) {
        const r = resp[c] as number;
        if (r < 1e-9) continue;
        nextPrior[c] = (nextPrior[c] as number) + r;
        const base = c * nCats;
        for (let p = from; p < to; p++) {
          const cell = base + (data.cats[p] as number);
          nextTheta[cell] = (nextTheta[cell] as number) + r * (data.counts[p] as number);
        }
      }
    }
    let priorSum = 0;
    for (let c = 0; c < k; c++) priorSum += nextPrior[c] as number;
    for (let c = 0; c < k; c++) {
      prior[c] = (nextPrior[c] as number) / priorSum;
      let rowSum = 0;
      for (let j = 0; j < nCats; j++) rowSum += nextTheta[c * nCats + j] as number;
      for (let j = 0; j < nCats; j++) theta[c * nCats + j] = (nextTheta[c * nCats + j] as number) / rowSum;
    }
    if (logLik - previous <= tolerance * Math.abs(logLik)) break;
    previous = logLik;
  }
  return {
    prior: Array.from(prior, round),
    categoryProbs: Array.from({ length: k }, (_, c) =>
      Array.from(theta.subarray(c * nCats, (c + 1) * nCats), round),
    ),
    iterations,
  };
}

/** k-means++ style seeding on category shares: spread-out, seeded starting tastes. */
function initialise(
  data: CategoryCounts,
  rows: number[],
  nCats: number,
  k: number,
  rng: ReturnType<typeof createRng>,
) {
  const theta = new Float64Array(k * nCats);
  const share = (u: number): Float64Array => {
    const v = new Float64Array(nCats);
    let total = 0;
    for (let p = data.start[u] as number; p < (data.start[u + 1] as number); p++)
      total += data.counts[p] as number;
    for (let p = data.start[u] as number; p < (data.start[u + 1] as number); p++) {
      v[data.cats[p] as number] = (data.counts[p] as number) / (total || 1);
    }
    return v;
  };
  if (rows.length === 0) {
    theta.fill(1 / nCats);
    return theta;
  }
  // Seeds come from the better-observed half of the users, so a single stray click is never a taste.
  const totals = rows.map((u) => {
    let t = 0;
    for (let p = data.start[u] as number; p < (data.start[u + 1] as number); p++)
      t += data.counts[p] as number;
    return t;
  });
  const sorted = [...totals].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  const pool = rows.filter((_, n) => (totals[n] as number) >= median);
  const centres: Float64Array[] = [share(pool[Math.floor(rng.next() * pool.length)] as number)];
  const shares = pool.map(share);
  const dist = new Float64Array(pool.length).fill(Number.POSITIVE_INFINITY);
  while (centres.length < k) {
    const last = centres[centres.length - 1] as Float64Array;
    let total = 0;
    for (let n = 0; n < pool.length; n++) {
      const v = shares[n] as Float64Array;
      let d = 0;
      for (let c = 0; c < nCats; c++) d += ((v[c] as number) - (last[c] as number)) ** 2;
      if (d < (dist[n] as number)) dist[n] = d;
      total += dist[n] as number;
    }
    if (!(total > 0)) break;
    let target = rng.next() * total;
    let chosen = pool.length - 1;
    for (let n = 0; n < pool.length; n++) {
      target -= dist[n] as number;
      if (target < 0) {
        chosen = n;
        break;
      }
    }
    centres.push(shares[chosen] as Float64Array);
  }
  for (let c = 0; c < k; c++) {
    const centre = centres[c % centres.length] as Float64Array;
    // Mixing in the uniform keeps every category possible in every class from the first E-step.
    for (let j = 0; j < nCats; j++) theta[c * nCats + j] = 0.8 * (centre[j] as number) + 0.2 / nCats;
  }
  return theta;
}

function responsibilities(
  data: CategoryCounts,
  u: number,
  nCats: number,
  k: number,
  logTheta: Float64Array,
  logPrior: Float64Array,
  out: Float64Array,
): number {
  let max = Number.NEGATIVE_INFINITY;
  const from = data.start[u] as number;
  const to = data.start[u + 1] as number;
  for (let c = 0; c < k; c++) {
    let l = logPrior[c] as number;
    const base = c * nCats;
    for (let p = from; p < to; p++) {
      l += (data.counts[p] as number) * (logTheta[base + (data.cats[p] as number)] as number);
    }
    out[c] = l;
    if (l > max) max = l;
  }
  let z = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp((out[c] as number) - max);
    out[c] = e;
    z += e;
  }
  for (let c = 0; c < k; c++) out[c] = (out[c] as number) / z;
  return max + Math.log(z);
}

/** P̂(c|u) for one user's category counts (dense, length nCats): the posterior-weighted class mix. */
export function tasteCategoryMix(
  classes: TasteClasses,
  counts: Float64Array,
  out: Float64Array,
): Float64Array {
  const k = classes.prior.length;
  const nCats = out.length;
  const logPost = new Float64Array(k);
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < k; c++) {
    const row = classes.categoryProbs[c] as number[];
    let l = Math.log(classes.prior[c] as number);
    for (let j = 0; j < nCats; j++) {
      const x = counts[j] as number;
      if (x > 0) l += x * Math.log(row[j] as number);
    }
    logPost[c] = l;
    if (l > max) max = l;
  }
  let z = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp((logPost[c] as number) - max);
    logPost[c] = e;
    z += e;
  }
  out.fill(0);
  for (let c = 0; c < k; c++) {
    const w = (logPost[c] as number) / z;
    const row = classes.categoryProbs[c] as number[];
    for (let j = 0; j < nCats; j++) out[j] = (out[j] as number) + w * (row[j] as number);
  }
  return out;
}

function round(x: number): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(9));
}
