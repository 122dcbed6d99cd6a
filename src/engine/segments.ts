import { kmeans } from 'ml-kmeans';
import { UserError } from '../domain/errors.ts';
import { formatMoney } from '../domain/format.ts';
import { Rng } from '../domain/random.ts';
/**
 * Audience segmentation: k-means over scaled per-profile features, with marketer-friendly segment names and traits.
 * Pure and seeded: the same data and options give the same segments.
 */
import type { AttributeKind, Interaction, Product, Profile } from '../domain/types.ts';
import {
  type ColumnScaling,
  columnScaling,
  computeFeatures,
  DEFAULT_SEGMENT_FEATURES,
  FeatureError,
  type FeatureTable,
  medianInPlace,
  scaledRowsAt,
  scaledRowsInto,
} from './features.ts';
import { pairwiseDistances, silhouette, silhouetteFromDistances } from './metrics.ts';

/** How to segment. */
export interface SegmentOptions {
  /** Number of segments (2..12), or 'auto' to pick by silhouette over `kRange`. */
  k: number | 'auto';
  /** Range searched by k='auto' (default [2, 8], allowed 2..12). */
  kRange?: [number, number];
  /** Feature names (default `DEFAULT_SEGMENT_FEATURES`). */
  features?: string[];
  /** Column scaling before clustering (default 'zscore'). */
  scaling?: 'zscore' | 'log-zscore' | 'none';
  /** Seed of sampling and k-means++ seeding (default 1). */
  seed?: number;
  /** k-means++ restarts; the lowest within-cluster sum of squares wins (default 5). */
  restarts?: number;
  /** Above this many profiles, fit on a seeded sample of this size, then assign everyone (default 50,000). */
  sampleSize?: number;
  /** Epoch ms the segmentation describes: later interactions and profiles created at/after it are ignored. */
  asOf: number;
  /** ISO 4217 code: money traits read "median $1.2k spent in the last year" (default: a bare number). */
  currency?: string;
}

/** One segment, described for marketers. */
export interface Segment {
  index: number;
  name: string;
  size: number;
  share: number;
  /** Share of purchase amounts in the last 365 days. */
  revenueShare: number;
  /** The largest standardized differences from the whole audience, phrased in original units. */
  traits: Array<{ feature: string; text: string; z: number }>;
  /** Centroid in scaled feature space. */
  centroid: number[];
}

/** The result of one segmentation. */
export interface SegmentResult {
  k: number;
  features: string[];
  scaling: string;
  /** Ordered by size, descending; `labels` index into this array. */
  segments: Segment[];
  labels: Int32Array;
  userIds: string[];
  quality: { silhouette: number; betweenOverTotal: number; withinSS: number };
  /** Silhouette per candidate k when k='auto'. */
  kScores?: Array<{ k: number; silhouette: number }>;
  sampled: { fitted: number; total: number } | null;
  /** Missing values filled with the column median, per feature. */
  imputed: Record<string, number>;
}

/** Bad segmentation request: one-line reason plus what would work. */
export class SegmentError extends UserError {
  override name = 'SegmentError';
  readonly code = 'segment';
}

/** The data segmentation reads. */
export interface SegmentInput {
  profiles: Profile[];
  interactions: Interaction[];
  products: Product[];
  attributes: Record<string, AttributeKind>;
}

const K_MIN = 2;
const K_MAX = 12;
/** k='auto' scores candidate k on at most this many points (exact silhouette is quadratic). */
const AUTO_SAMPLE = 2000;
/** Reported silhouette is computed on at most this many points (seeded sample; exact below it). */
const SILHOUETTE_SAMPLE = 1000;
/** Restarts run on at most this many points; the winner is then refined on the whole fit set. */
const RESTART_SAMPLE = 5000;
/** Lloyd iterations per k-means run, as ml-kmeans' default. */
const MAX_ITERATIONS = 100;

/** Segments the audience with k-means (k-means++ seeding, several restarts) on scaled features. */
export function segmentAudience(input: SegmentInput, options: SegmentOptions): SegmentResult {
  const restarts = options.restarts ?? 5;
  const sampleSize = options.sampleSize ?? 50_000;
  const scaling = options.scaling ?? 'zscore';
  const seed = options.seed ?? 1;
  validate(options, restarts, sampleSize, scaling);
  const requestedFeatures = [
    ...new Set((options.features ?? DEFAULT_SEGMENT_FEATURES).map((f) => f.trim())),
  ].filter((f) => f.length > 0);
  if (requestedFeatures.length === 0) {
    throw new SegmentError(
      `no features given; try features=${DEFAULT_SEGMENT_FEATURES.slice(0, 4).join(',')}`,
    );
  }

  // Revenue needs `monetary`; compute it in the same pass even when it is not a clustering feature.
  const requested = requestedFeatures.includes('monetary')
    ? requestedFeatures
    : [...requestedFeatures, 'monetary'];
  let full: FeatureTable;
  try {
    full = computeFeatures(input, requested, { asOf: options.asOf, existingOnly: true });
  } catch (err) {
    if (err instanceof FeatureError) throw new SegmentError(err.message);
    throw err;
  }
  const n = full.userIds.length;
  if (n === 0) {
    throw new SegmentError(
      'the audience is empty at this point in time; import data or load the sample (`audience sample`)',
    );
  }
  if (n < 2) throw new SegmentError('only 1 profile; segments need at least 2 profiles');
  if (options.k !== 'auto' && n < options.k) {
    throw new SegmentError(`only ${n} profiles but k=${options.k}; use k=${n} or less`);
  }
  if (options.k === 'auto' && n < 3) {
    throw new SegmentError(`only ${n} profiles; k=auto needs at least 3, try k=2`);
  }
  const revenue = full.columns[full.names.indexOf('monetary')] as Float64Array;
  // Default features adapt to the data (an import without purchases has no order values); asked-for ones must work.
  const empty = requestedFeatures.filter((f) => (full.missing[f] ?? 0) === n);
  if (empty.length > 0 && options.features !== undefined) {
    throw new SegmentError(`feature "${empty[0]}" has no values in this audience; pick features with data`);
  }
  const features = requestedFeatures.filter((f) => !empty.includes(f));
  if (features.length === 0) {
    throw new SegmentError(
      'none of the default features has data here; name features with data, e.g. features=age',
    );
  }
  const table: FeatureTable = {
    userIds: full.userIds,
    names: features,
    columns: features.map((f) => full.columns[full.names.indexOf(f)] as Float64Array),
    missing: Object.fromEntries(features.map((f) => [f, full.missing[f] ?? 0])),
  };

  // One n-row scratch buffer serves the medians of the scaling and of the traits.
  const scratch = new Float64Array(n);
  const params = columnScaling(table, scaling, scratch);
  const d = features.length;
  const rng = new Rng(seed);
  // Every k-means pass reads compact row-major buffers: the whole audience when it is the fit set, else a
  // gathered copy of the sample. Passes over a sampled audience read its scaled rows a block at a time.
  const sampled = n > sampleSize;
  const fitData: Rows = sampled
    ? { flat: scaledRowsAt(table, params, rng.sampleIndices(n, sampleSize)), n: sampleSize, d }
    : { flat: scaledRowsAt(table, params, null), n, d };
  const everyone: Scaled = { table, params, n, d, all: sampled ? null : fitData };

  let k: number;
  let kScores: Array<{ k: number; silhouette: number }> | undefined;
  if (options.k === 'auto') {
    const [lo, hi] = options.kRange ?? [2, 8];
    const evalData =
      fitData.n > AUTO_SAMPLE ? gatherRows(fitData, rng.sampleIndices(fitData.n, AUTO_SAMPLE)) : fitData;
    const dist = pairwiseDistances(rowViews(evalData));
    kScores = [];
    const top = Math.min(hi, evalData.n - 1);
    const labels = new Int32Array(evalData.n);
    for (let kk = lo; kk <= top; kk++) {
      const centers = bestOfRestarts(evalData, kk, restarts, rng);
      nearest(evalData, centers, kk, labels);
      kScores.push({ k: kk, silhouette: silhouetteFromDistances(dist, evalData.n, labels, kk) });
    }
    if (kScores.length === 0) {
      throw new SegmentError(`only ${n} profiles, too few for k=auto over [${lo}, ${hi}]; try k=2`);
    }
    let best = kScores[0] as { k: number; silhouette: number };
    for (const s of kScores) if (s.silhouette > best.silhouette + 1e-9) best = s;
    k = best.k;
  } else {
    k = options.k;
  }

  let centers: Float64Array;
  if (fitData.n > RESTART_SAMPLE) {
    const sub = gatherRows(fitData, rng.sampleIndices(fitData.n, RESTART_SAMPLE));
    // Refining from converged centers only needs to settle the last few points: a looser tolerance halves the
    // iterations on the big fit set without changing the segments.
    centers = lloyd(fitData, bestOfRestarts(sub, k, restarts, rng), k, 1e-4);
  } else {
    centers = bestOfRestarts(fitData, k, restarts, rng);
  }

  // Assign everyone, relabel by size (descending), and recompute centroids from the final members.
  const labels = new Int32Array(n);
  const block = new Float64Array(everyone.all ? 0 : BLOCK_ROWS * d);
  for (let first = 0; first < n; first += BLOCK_ROWS) {
    const rows = blockAt(everyone, first, block);
    nearest(rows, centers, k, labels.subarray(first, first + rows.n));
  }
  const rawSizes = new Float64Array(k);
  for (let i = 0; i < n; i++) rawSizes[labels[i] as number] = (rawSizes[labels[i] as number] as number) + 1;
  const order = Array.from({ length: k }, (_, c) => c).sort(
    (a, b) => (rawSizes[b] as number) - (rawSizes[a] as number) || a - b,
  );
  const newIndex = new Int32Array(k);
  order.forEach((old, pos) => {
    newIndex[old] = pos;
  });
  for (let i = 0; i < n; i++) labels[i] = newIndex[labels[i] as number] as number;

  const sizes = new Float64Array(k);
  const centroidSums = new Float64Array(k * d);
  const totalMean = new Float64Array(d);
  for (let first = 0; first < n; first += BLOCK_ROWS) {
    const { flat, n: m } = blockAt(everyone, first, block);
    for (let r = 0; r < m; r++) {
      const c = labels[first + r] as number;
      sizes[c] = (sizes[c] as number) + 1;
      for (let t = 0; t < d; t++) {
        const v = flat[r * d + t] as number;
        centroidSums[c * d + t] = (centroidSums[c * d + t] as number) + v;
        totalMean[t] = (totalMean[t] as number) + v;
      }
    }
  }
  for (let t = 0; t < d; t++) totalMean[t] = (totalMean[t] as number) / n;
  const centroids = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    for (let t = 0; t < d; t++) {
      const size = sizes[c] as number;
      centroids[c * d + t] = size > 0 ? (centroidSums[c * d + t] as number) / size : 0;
    }
  }
  let withinSS = 0;
  let totalSS = 0;
  const colVar = new Float64Array(d);
  for (let first = 0; first < n; first += BLOCK_ROWS) {
    const { flat, n: m } = blockAt(everyone, first, block);
    for (let r = 0; r < m; r++) {
      const c = labels[first + r] as number;
      for (let t = 0; t < d; t++) {
        const v = flat[r * d + t] as number;
        const dw = v - (centroids[c * d + t] as number);
        const dt = v - (totalMean[t] as number);
        withinSS += dw * dw;
        totalSS += dt * dt;
        colVar[t] = (colVar[t] as number) + dt * dt;
      }
    }
  }
  const colSd = Array.from(colVar, (v) => (n > 1 ? Math.sqrt(v / (n - 1)) : 0));

  const silRows = n > SILHOUETTE_SAMPLE ? rng.sampleIndices(n, SILHOUETTE_SAMPLE) : null;
  const silPoints = rowViews({ flat: scaledRowsAt(table, params, silRows), n: silRows?.length ?? n, d });
  const silLabels = silRows ? Int32Array.from(silRows, (r) => labels[r] as number) : labels;
  const sil = silhouette(silPoints, silLabels, k);

  let totalRevenue = 0;
  const segRevenue = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const v = revenue[i] as number;
    if (Number.isFinite(v)) {
      totalRevenue += v;
      segRevenue[labels[i] as number] = (segRevenue[labels[i] as number] as number) + v;
    }
  }

  const zs: number[][] = [];
  for (let c = 0; c < k; c++) {
    zs.push(
      Array.from({ length: d }, (_, t) => {
        const sd = colSd[t] as number;
        return sd > 1e-12 ? ((centroids[c * d + t] as number) - (totalMean[t] as number)) / sd : 0;
      }),
    );
  }
  const describer = describeTraits(table, labels, k, scratch, options.currency ?? null);
  const names = nameSegments(features, zs);

  const segments: Segment[] = [];
  for (let c = 0; c < k; c++) {
    const size = sizes[c] as number;
    segments.push({
      index: c,
      name: names[c] as string,
      size,
      share: size / n,
      revenueShare: totalRevenue > 0 ? (segRevenue[c] as number) / totalRevenue : 0,
      traits: describer(c, zs[c] as number[]),
      centroid: Array.from(centroids.subarray(c * d, (c + 1) * d)),
    });
  }

  const result: SegmentResult = {
    k,
    features,
    scaling,
    segments,
    labels,
    userIds: table.userIds,
    quality: { silhouette: sil, betweenOverTotal: totalSS > 0 ? 1 - withinSS / totalSS : 0, withinSS },
    sampled: sampled ? { fitted: fitData.n, total: n } : null,
    imputed: params.imputed,
  };
  if (kScores) result.kScores = kScores;
  return result;
}

function validate(options: SegmentOptions, restarts: number, sampleSize: number, scaling: string): void {
  const { k } = options;
  if (k !== 'auto' && !(Number.isInteger(k) && k >= K_MIN && k <= K_MAX)) {
    throw new SegmentError(`k must be a whole number from ${K_MIN} to ${K_MAX} or "auto", got ${String(k)}`);
  }
  if (options.kRange !== undefined) {
    const r = options.kRange;
    const ok =
      Array.isArray(r) &&
      r.length === 2 &&
      Number.isInteger(r[0]) &&
      Number.isInteger(r[1]) &&
      r[0] >= K_MIN &&
      r[1] <= K_MAX &&
      r[0] <= r[1];
    if (!ok) {
      throw new SegmentError(
        `kRange must be [min, max] with ${K_MIN} <= min <= max <= ${K_MAX}, got ${JSON.stringify(r)}; try [2, 8]`,
      );
    }
  }
  if (!(Number.isInteger(restarts) && restarts >= 1 && restarts <= 100)) {
    throw new SegmentError(`restarts must be a whole number from 1 to 100, got ${restarts}`);
  }
  if (!(Number.isInteger(sampleSize) && sampleSize >= 100)) {
    throw new SegmentError(`sampleSize must be a whole number of at least 100, got ${sampleSize}`);
  }
  if (scaling !== 'zscore' && scaling !== 'log-zscore' && scaling !== 'none') {
    throw new SegmentError(`scaling must be zscore, log-zscore or none, got ${scaling}`);
  }
  if (!Number.isFinite(options.asOf)) throw new SegmentError('asOf must be a finite time (epoch ms)');
}

/** n points of d coordinates, row-major: point i is flat[i*d .. (i+1)*d). */
interface Rows {
  flat: Float64Array;
  n: number;
  d: number;
}

/** The scaled feature matrix of everyone: materialised when it is small, else read from the columns in blocks. */
interface Scaled {
  table: FeatureTable;
  params: ColumnScaling;
  n: number;
  d: number;
  all: Rows | null;
}

/** Rows per block when the scaled matrix is read from the columns: a block stays in cache while it is used. */
const BLOCK_ROWS = 4096;

/** The scaled rows from `first` (at most BLOCK_ROWS): a view of the materialised matrix, or filled into `block`. */
function blockAt(src: Scaled, first: number, block: Float64Array): Rows {
  const { d } = src;
  const m = Math.min(BLOCK_ROWS, src.n - first);
  if (src.all) return { flat: src.all.flat.subarray(first * d, (first + m) * d), n: m, d };
  scaledRowsInto(src.table, src.params, first, m, block);
  return { flat: block, n: m, d };
}

/** A compact copy of the listed rows, in the listed order. */
function gatherRows(rows: Rows, idx: Int32Array): Rows {
  const { d } = rows;
  const out = new Float64Array(idx.length * d);
  for (let r = 0; r < idx.length; r++) {
    const from = (idx[r] as number) * d;
    out.set(rows.flat.subarray(from, from + d), r * d);
  }
  return { flat: out, n: idx.length, d };
}

/** Row views, for the metrics functions that take one array per point. */
function rowViews(rows: Rows): Float64Array[] {
  const { flat, n, d } = rows;
  return Array.from({ length: n }, (_, i) => flat.subarray(i * d, (i + 1) * d));
}

/** Nearest-centroid label of every row into `labels` (centers flat, k×d); returns the total squared distance. */
function nearest(rows: Rows, centers: Float64Array, k: number, labels: Int32Array): number {
  const { flat, n, d } = rows;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const off = i * d;
    let best = 0;
    let bestDist = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      let s = 0;
      const coff = c * d;
      for (let t = 0; t < d; t++) {
        const diff = (flat[off + t] as number) - (centers[coff + t] as number);
        s += diff * diff;
      }
      if (s < bestDist) {
        bestDist = s;
        best = c;
      }
    }
    labels[i] = best;
    ss += bestDist;
  }
  return ss;
}

/** Runs `restarts` seeded k-means++ initialisations through Lloyd; keeps the lowest within-cluster SS. */
function bestOfRestarts(data: Rows, k: number, restarts: number, rng: Rng): Float64Array {
  let best: Float64Array | null = null;
  let bestSS = Number.POSITIVE_INFINITY;
  const labels = new Int32Array(data.n);
  for (let r = 0; r < restarts; r++) {
    const centers = lloyd(data, seedPlusPlus(data, k, rng), k);
    const ss = nearest(data, centers, k, labels);
    if (ss < bestSS) {
      bestSS = ss;
      best = centers;
    }
  }
  return best as Float64Array;
}

/**
 * Lloyd iterations by ml-kmeans from the given centers (our seeded k-means++ pick, so its own slow
 * initialisation never runs); returns the final centers flat (k×d).
 */
function lloyd(data: Rows, initial: Float64Array, k: number, tolerance = 1e-6): Float64Array {
  const { d } = data;
  const start = Array.from({ length: k }, (_, c) => Array.from(initial.subarray(c * d, (c + 1) * d)));
  // Row views are typed arrays; ml-kmeans only indexes rows and columns, so they need no copying.
  const rows = rowViews(data) as unknown as number[][];
  const result = kmeans(rows, k, { initialization: start, tolerance, maxIterations: MAX_ITERATIONS });
  const centers = new Float64Array(k * d);
  result.centroids.forEach((centroid, c) => {
    centers.set(centroid, c * d);
  });
  return centers;
}

/** Greedy k-means++ seeding (several candidates per step, keep the one that lowers the potential most). */
function seedPlusPlus(data: Rows, k: number, rng: Rng): Float64Array {
  const { flat, n, d } = data;
  const centers = new Float64Array(k * d);
  const firstAt = rng.int(0, n - 1) * d;
  centers.set(flat.subarray(firstAt, firstAt + d), 0);
  let closest = new Float64Array(n);
  for (let i = 0; i < n; i++) closest[i] = sqDist(flat, i * d, flat, firstAt, d);
  let candidateDist = new Float64Array(n);
  let bestDist = new Float64Array(n);
  const trials = 2 + Math.floor(Math.log(k));
  for (let c = 1; c < k; c++) {
    let potential = 0;
    for (let i = 0; i < n; i++) potential += closest[i] as number;
    let bestPotential = Number.POSITIVE_INFINITY;
    let bestIdx = 0;
    for (let t = 0; t < trials; t++) {
      let idx: number;
      if (potential > 0) {
        let u = rng.next() * potential;
        idx = n - 1;
        for (let i = 0; i < n; i++) {
          u -= closest[i] as number;
          if (u < 0) {
            idx = i;
            break;
          }
        }
      } else {
        idx = rng.int(0, n - 1);
      }
      const candAt = idx * d;
      let pot = 0;
      for (let i = 0; i < n; i++) {
        const dist = sqDist(flat, i * d, flat, candAt, d);
        const m = Math.min(dist, closest[i] as number);
        candidateDist[i] = m;
        pot += m;
      }
      if (pot < bestPotential) {
        bestPotential = pot;
        bestIdx = idx;
        const tmp = bestDist;
        bestDist = candidateDist;
        candidateDist = tmp;
      }
    }
    centers.set(flat.subarray(bestIdx * d, bestIdx * d + d), c * d);
    const tmp = closest;
    closest = bestDist;
    bestDist = tmp;
  }
  return centers;
}

function sqDist(a: Float64Array, aAt: number, b: Float64Array, bAt: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const diff = (a[aAt + t] as number) - (b[bAt + t] as number);
    s += diff * diff;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Traits and names

interface Words {
  adj: string;
  noun: string;
}

const LEXICON: Record<string, { high: Words; low: Words }> = {
  log_followers: {
    high: { adj: 'Influential', noun: 'influencers' },
    low: { adj: 'Small-reach', noun: 'small accounts' },
  },
  followers: {
    high: { adj: 'Influential', noun: 'influencers' },
    low: { adj: 'Small-reach', noun: 'small accounts' },
  },
  views_per_week: { high: { adj: 'Avid', noun: 'watchers' }, low: { adj: 'Rarely-seen', noun: 'browsers' } },
  engagement: { high: { adj: 'Highly engaged', noun: 'fans' }, low: { adj: 'Quiet', noun: 'lurkers' } },
  likes_per_week: { high: { adj: 'Like-happy', noun: 'likers' }, low: { adj: 'Reserved', noun: 'lurkers' } },
  shares_per_week: {
    high: { adj: 'Sharing', noun: 'sharers' },
    low: { adj: 'Non-sharing', noun: 'lurkers' },
  },
  comments_per_week: {
    high: { adj: 'Talkative', noun: 'commenters' },
    low: { adj: 'Silent', noun: 'lurkers' },
  },
  clicks_per_week: {
    high: { adj: 'Click-happy', noun: 'clickers' },
    low: { adj: 'Low-click', noun: 'viewers' },
  },
  engagement_rate: {
    high: { adj: 'Interactive', noun: 'responders' },
    low: { adj: 'Passive', noun: 'viewers' },
  },
  recency_days: {
    high: { adj: 'Lapsed', noun: 'lapsed buyers' },
    low: { adj: 'Recent', noun: 'recent buyers' },
  },
  frequency: {
    high: { adj: 'Frequent', noun: 'repeat buyers' },
    low: { adj: 'Infrequent', noun: 'occasional buyers' },
  },
  monetary: {
    high: { adj: 'High-spend', noun: 'big spenders' },
    low: { adj: 'Low-spend', noun: 'light spenders' },
  },
  spend_per_month: {
    high: { adj: 'High-spend', noun: 'big spenders' },
    low: { adj: 'Low-spend', noun: 'light spenders' },
  },
  purchases_per_month: {
    high: { adj: 'Frequent', noun: 'repeat buyers' },
    low: { adj: 'Infrequent', noun: 'occasional buyers' },
  },
  avg_order_value: {
    high: { adj: 'Big-basket', noun: 'premium shoppers' },
    low: { adj: 'Small-basket', noun: 'bargain hunters' },
  },
  active_days_per_week: {
    high: { adj: 'Daily-active', noun: 'regulars' },
    low: { adj: 'Occasional', noun: 'drop-ins' },
  },
  tenure_days: { high: { adj: 'Long-time', noun: 'veterans' }, low: { adj: 'New', noun: 'newcomers' } },
  age: { high: { adj: 'Older', noun: 'mature customers' }, low: { adj: 'Young', noun: 'young users' } },
  loyalty_member: {
    high: { adj: 'Loyalty-club', noun: 'loyalists' },
    low: { adj: 'Non-member', noun: 'non-members' },
  },
  app_sessions_per_week: {
    high: { adj: 'App-heavy', noun: 'app regulars' },
    low: { adj: 'App-light', noun: 'occasional app users' },
  },
};

/** Marketing archetypes recognised from a segment's z-profile (weights over feature names). */
const ARCHETYPES: Array<{ name: (z: Record<string, number>) => string; signature: Record<string, number> }> =
  [
    {
      name: () => 'High-spend loyalists',
      signature: {
        monetary: 1,
        spend_per_month: 1,
        avg_order_value: 0.8,
        loyalty_member: 0.8,
        frequency: 0.3,
        purchases_per_month: 0.3,
        recency_days: -0.3,
      },
    },
    {
      name: (z) => ((z.age ?? 0) < -0.3 ? 'Young trend-setters' : 'Trend-setters'),
      signature: {
        log_followers: 1,
        followers: 0.8,
        engagement: 1,
        shares_per_week: 0.8,
        likes_per_week: 0.8,
        comments_per_week: 0.6,
        engagement_rate: 0.6,
        age: -0.8,
      },
    },
    {
      name: () => 'Bargain hunters',
      signature: { frequency: 1, purchases_per_month: 1, avg_order_value: -1, clicks_per_week: 0.7 },
    },
    {
      name: () => 'Quiet followers',
      signature: {
        views_per_week: 0.8,
        engagement_rate: -1,
        engagement: -0.4,
        log_followers: -0.4,
        followers: -0.3,
      },
    },
    {
      name: () => 'Casual browsers',
      signature: {
        views_per_week: -1,
        active_days_per_week: -1,
        engagement: -0.6,
        frequency: -0.4,
        purchases_per_month: -0.4,
        monetary: -0.4,
        spend_per_month: -0.4,
        app_sessions_per_week: -0.6,
      },
    },
    {
      name: () => 'Dormant followers',
      signature: { recency_days: 1, active_days_per_week: -0.8, engagement: -0.6, views_per_week: -0.6 },
    },
    {
      name: () => 'Engaged fans',
      signature: { engagement: 1, active_days_per_week: 0.8, likes_per_week: 0.6 },
    },
    {
      name: () => 'Big-ticket buyers',
      signature: { avg_order_value: 1, frequency: -0.5, purchases_per_month: -0.5 },
    },
    {
      name: () => 'Frequent shoppers',
      signature: { frequency: 1, purchases_per_month: 1, monetary: 0.6, spend_per_month: 0.6 },
    },
    { name: () => 'New joiners', signature: { tenure_days: -1 } },
  ];
/** Minimum cosine between a z-profile and an archetype signature to use the archetype's name. */
const ARCHETYPE_MIN_COSINE = 0.6;

/** Unique names: archetypes first (greedy by best match), then adjective + noun of the top traits. */
function nameSegments(features: string[], zs: number[][]): string[] {
  const k = zs.length;
  const names: Array<string | null> = new Array(k).fill(null);
  const used = new Set<string>();
  const candidates: Array<{ c: number; a: number; score: number }> = [];
  zs.forEach((z, c) => {
    const norm = Math.hypot(...z);
    if (norm < 0.5) return;
    ARCHETYPES.forEach((arch, a) => {
      let dot = 0;
      let wNorm = 0;
      let present = 0;
      features.forEach((f, t) => {
        const w = arch.signature[f];
        if (w === undefined) return;
        present++;
        dot += w * (z[t] as number);
        wNorm += w * w;
      });
      const needed = Math.min(2, Object.keys(arch.signature).length);
      if (present < needed || wNorm === 0) return;
      const score = dot / (Math.sqrt(wNorm) * norm);
      if (score >= ARCHETYPE_MIN_COSINE) candidates.push({ c, a, score });
    });
  });
  candidates.sort((x, y) => y.score - x.score || x.c - y.c || x.a - y.a);
  const usedArch = new Set<number>();
  for (const { c, a } of candidates) {
    if (names[c] !== null || usedArch.has(a)) continue;
    const zByName: Record<string, number> = {};
    features.forEach((f, t) => {
      zByName[f] = zs[c]?.[t] ?? 0;
    });
    const name = (ARCHETYPES[a] as (typeof ARCHETYPES)[number]).name(zByName);
    if (used.has(name)) continue;
    names[c] = name;
    used.add(name);
    usedArch.add(a);
  }
  for (let c = 0; c < k; c++) {
    if (names[c] !== null) continue;
    const z = zs[c] as number[];
    const ranked = features
      .map((f, t) => ({ f, z: z[t] as number }))
      .filter((x) => Math.abs(x.z) >= 0.3)
      .sort((x, y) => Math.abs(y.z) - Math.abs(x.z));
    const options: string[] = [];
    if (ranked.length === 0) options.push('Mainstream audience');
    for (let i = 0; i < ranked.length; i++) {
      for (let j = 0; j < ranked.length; j++) {
        const a = ranked[i] as { f: string; z: number };
        const b = ranked[j] as { f: string; z: number };
        if (i === j) continue;
        const adj = wordsFor(a.f, a.z).adj;
        const noun = wordsFor(b.f, b.z).noun;
        if (!adj.toLowerCase().includes(noun.toLowerCase())) options.push(`${adj} ${noun}`);
      }
      const solo = ranked[i] as { f: string; z: number };
      options.push(`${wordsFor(solo.f, solo.z).adj} audience`);
    }
    let name = options.find((o) => !used.has(o)) ?? (options[0] as string);
    for (let suffix = 2; used.has(name); suffix++) name = `${options[0]} ${suffix}`;
    names[c] = name;
    used.add(name);
  }
  return names as string[];
}

function wordsFor(feature: string, z: number): Words {
  const entry = LEXICON[feature];
  if (entry) return z >= 0 ? entry.high : entry.low;
  const [prefix, rest] = splitPrefix(feature);
  if (prefix === 'interest') {
    return z >= 0
      ? { adj: `${capitalize(rest)}-loving`, noun: `${rest} fans` }
      : { adj: `Not-into-${rest}`, noun: 'other-interest users' };
  }
  if (prefix === 'category') {
    return z >= 0
      ? { adj: `${capitalize(rest)}-focused`, noun: `${rest} shoppers` }
      : { adj: `Non-${rest}`, noun: 'other shoppers' };
  }
  const label = feature.replace(/_/g, ' ');
  return z >= 0
    ? { adj: `High-${label}`, noun: `high-${label} users` }
    : { adj: `Low-${label}`, noun: `low-${label} users` };
}

function splitPrefix(feature: string): [string, string] {
  const at = feature.indexOf(':');
  return at < 0 ? ['', feature] : [feature.slice(0, at).toLowerCase(), feature.slice(at + 1)];
}

function capitalize(s: string): string {
  return s.length > 0 ? s[0]?.toUpperCase() + s.slice(1) : s;
}

const UNITS: Record<string, string> = {
  followers: 'followers',
  log_followers: 'followers',
  views_per_week: 'views/week',
  engagement: 'engagements/week',
  likes_per_week: 'likes/week',
  shares_per_week: 'shares/week',
  comments_per_week: 'comments/week',
  clicks_per_week: 'clicks/week',
  engagement_rate: 'engagements per view',
  recency_days: 'days since last purchase',
  frequency: 'purchases/year',
  monetary: 'spent in the last year',
  spend_per_month: 'spent/month',
  purchases_per_month: 'purchases/month',
  avg_order_value: 'per order',
  active_days_per_week: 'active days/week',
  tenure_days: 'days of tenure',
};

/** Features that are amounts of money, shown with the currency. */
const MONEY_FEATURES = new Set(['monetary', 'spend_per_month', 'avg_order_value']);

const MAX_TRAITS = 4;
const MIN_TRAIT_Z = 0.25;

/** Builds the trait describer: top standardized differences per segment, with text in original units. */
function describeTraits(
  table: FeatureTable,
  labels: Int32Array,
  k: number,
  scratch: Float64Array,
  currency: string | null,
): (segment: number, z: number[]) => Array<{ feature: string; text: string; z: number }> {
  const n = labels.length;
  const sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) sizes[labels[i] as number] = (sizes[labels[i] as number] as number) + 1;
  // Per feature, computed once when a segment first needs it: values grouped by segment, medians and means.
  type Stats = { segMedian: number; allMedian: number; segMean: number; allMean: number };
  const cache = new Map<number, Stats[]>();
  // The segments' values side by side in one scratch buffer; medians select in place there, no copies.
  const grouped = scratch.subarray(0, n);
  const offsets = new Int32Array(k + 1);
  for (let g = 0; g < k; g++) offsets[g + 1] = (offsets[g] as number) + (sizes[g] as number);
  const stats = (c: number, t: number): Stats => {
    let perSegment = cache.get(t);
    if (!perSegment) {
      const raw = table.columns[t] as Float64Array;
      const name = table.names[t] as string;
      // Followers are clustered as log10(1 + f) but described in followers: f = 10^x - 1 is increasing, so the
      // order statistics of the log column map to those of the followers one (a million powers saved).
      const log = name === 'log_followers';
      const fromLog = (x: number) => 10 ** x - 1;
      const groups = Array.from({ length: k }, (_, g) =>
        grouped.subarray(offsets[g] as number, offsets[g + 1] as number),
      );
      const fill = new Int32Array(k);
      for (let i = 0; i < n; i++) {
        const g = labels[i] as number;
        (groups[g] as Float64Array)[fill[g] as number] = raw[i] as number;
        fill[g] = (fill[g] as number) + 1;
      }
      // Means are only phrased for yes/no features and category shares.
      const sums = new Float64Array(k);
      const counts = new Float64Array(k);
      if (isBinary[t] === true || splitPrefix(name)[0] === 'category') {
        for (let i = 0; i < n; i++) {
          const v = log ? fromLog(raw[i] as number) : (raw[i] as number);
          if (Number.isNaN(v)) continue;
          const g = labels[i] as number;
          sums[g] = (sums[g] as number) + v;
          counts[g] = (counts[g] as number) + 1;
        }
      }
      let allSum = 0;
      let allCount = 0;
      for (let g = 0; g < k; g++) {
        allSum += sums[g] as number;
        allCount += counts[g] as number;
      }
      const allMean = allCount > 0 ? allSum / allCount : Number.NaN;
      const segMedians = groups.map((values) => medianInPlace(values, log ? fromLog : undefined));
      // Every value is still in `grouped`, only reordered: the whole buffer's median is the audience's.
      const allMedian = medianInPlace(grouped, log ? fromLog : undefined);
      perSegment = segMedians.map((segMedian, g) => ({
        segMedian,
        allMedian,
        segMean: (counts[g] as number) > 0 ? (sums[g] as number) / (counts[g] as number) : Number.NaN,
        allMean,
      }));
      cache.set(t, perSegment);
    }
    return perSegment[c] as Stats;
  };
  const isBinary = table.columns.map((col) => {
    for (let i = 0; i < col.length; i++) {
      const v = col[i] as number;
      if (!Number.isNaN(v) && v !== 0 && v !== 1) return false;
    }
    return true;
  });

  return (c, z) => {
    const ranked = table.names
      .map((feature, t) => ({ feature, t, z: z[t] as number }))
      .sort((a, b) => Math.abs(b.z) - Math.abs(a.z) || a.t - b.t);
    const picked = ranked.filter((r) => Math.abs(r.z) >= MIN_TRAIT_Z).slice(0, MAX_TRAITS);
    if (picked.length === 0 && ranked.length > 0) picked.push(ranked[0] as (typeof ranked)[number]);
    return picked.map((r) => ({
      feature: r.feature,
      z: r.z,
      text: traitText(r.feature, stats(c, r.t), isBinary[r.t] === true, currency),
    }));
  };
}

function traitText(
  feature: string,
  s: { segMedian: number; allMedian: number; segMean: number; allMean: number },
  binary: boolean,
  currency: string | null,
): string {
  const [prefix, rest] = splitPrefix(feature);
  if (binary) {
    const what = prefix === 'interest' ? `interested in ${rest}` : feature.replace(/_/g, ' ');
    return `${percent(s.segMean)} ${what} vs ${percent(s.allMean)} overall`;
  }
  if (prefix === 'category') {
    return `${percent(s.segMean)} of purchases in ${rest} vs ${percent(s.allMean)} overall`;
  }
  const unit = UNITS[feature];
  const amount =
    currency !== null && MONEY_FEATURES.has(feature) && !Number.isNaN(s.segMedian)
      ? formatMoney(s.segMedian, currency)
      : formatNumber(s.segMedian);
  const head = unit
    ? `median ${amount} ${unit}`
    : `median ${feature.replace(/_/g, ' ')} ${formatNumber(s.segMedian)}`;
  return `${head}, ${compare(s.segMedian, s.allMedian)}`;
}

function compare(seg: number, all: number): string {
  if (Number.isNaN(seg)) return 'no data';
  if (!(all > 0)) return `audience median ${formatNumber(all)}`;
  const r = seg / all;
  if (r >= 1.5) return `${r.toFixed(1)}x the audience`;
  if (r <= 0.67) return `${Math.round((1 - r) * 100)}% below the audience`;
  const diff = Math.round((r - 1) * 100);
  return diff === 0 ? 'about the audience median' : `${diff > 0 ? '+' : ''}${diff}% vs the audience`;
}

function percent(x: number): string {
  return Number.isNaN(x) ? 'n/a' : `${Math.round(x * 100)}%`;
}

/** 12.4k, 1.2M, 38, 3.1, 0.45. */
function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'n/a';
  const a = Math.abs(v);
  const trim = (s: string) => s.replace(/\.0+$/, '').replace(/(\.\d*?)0+$/, '$1');
  if (a >= 1e6) return `${trim((v / 1e6).toFixed(1))}M`;
  if (a >= 1e3) return `${trim((v / 1e3).toFixed(1))}k`;
  if (a >= 100) return String(Math.round(v));
  if (a >= 10) return trim(v.toFixed(1));
  if (a >= 1) return trim(v.toFixed(1));
  if (a === 0) return '0';
  return trim(v.toFixed(2));
}
