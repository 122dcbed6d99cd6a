/**
 * Audience segmentation: k-means over scaled per-profile features, with marketer-friendly segment names and traits.
 * Pure and seeded: the same data and options give the same segments. The words are in segment-wording.ts, the
 * allowed range and defaults in segment-defaults.ts.
 */
import { createRequire } from 'node:module';
import type * as MlKmeans from 'ml-kmeans';
import { UserError } from '../domain/errors.ts';
import { Rng } from '../domain/random.ts';
import type {
  AssignedSummary,
  CentreAssignment,
  PersonFeatureColumn,
  SegmentPlacement,
} from '../domain/segment-scan.ts';
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
import {
  isAllowedK,
  isScaling,
  K_RANGE,
  SCALINGS,
  type Scaling,
  SEGMENT_DEFAULTS,
} from './segment-defaults.ts';
import { nameSegments, splitPrefix, type TraitStats, traitText } from './segment-wording.ts';

/** How to segment. */
export interface SegmentOptions {
  /** Number of segments (within `K_RANGE`), or 'auto' to pick by silhouette over `kRange`. */
  k: number | 'auto';
  /** Range searched by k='auto' (default `SEGMENT_DEFAULTS.autoRange`, allowed within `K_RANGE`). */
  kRange?: [number, number];
  /** Feature names (default `DEFAULT_SEGMENT_FEATURES`). */
  features?: string[];
  /** Column scaling before clustering (default `SEGMENT_DEFAULTS.scaling`). */
  scaling?: Scaling;
  /** Seed of sampling and k-means++ seeding (default `SEGMENT_DEFAULTS.seed`). */
  seed?: number;
  /** k-means++ restarts; the lowest within-cluster sum of squares wins (default `SEGMENT_DEFAULTS.restarts`). */
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
  traits: Trait[];
  /** Centroid in scaled feature space. */
  centroid: number[];
}

/** One trait of a segment: the feature, its standardized difference from the audience, and the sentence. */
export interface Trait {
  feature: string;
  text: string;
  z: number;
}

/** The result of one segmentation. */
export interface SegmentResult {
  k: number;
  features: string[];
  scaling: string;
  /** Ordered by size, descending; `labels` index into this array. */
  segments: Segment[];
  /** Everyone's segment, by `userIds`; both empty when the backend holds the assignments (`segmentsFromSummary`). */
  labels: Int32Array;
  userIds: string[];
  /** Profiles segmented. */
  total: number;
  /** How the backend placed everyone, when it did (`labels` and `userIds` are then empty). */
  placement?: SegmentPlacement;
  quality: { silhouette: number; betweenOverTotal: number; withinSS: number };
  /** Silhouette per candidate k when k='auto'. */
  kScores?: Array<{ k: number; silhouette: number }>;
  sampled: { fitted: number; total: number } | null;
  /** Missing values filled with the column median, per feature. */
  imputed: Record<string, number>;
  /**
   * Plain warnings about the input: a feature with one value for everyone, or no variation at all (then
   * `degenerate` is true and the split and its silhouette mean nothing).
   */
  warnings?: string[];
  degenerate?: boolean;
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

/** k='auto' scores candidate k on at most this many points (exact silhouette is quadratic). */
const AUTO_SAMPLE = 2000;
/** Reported silhouette is computed on at most this many points (seeded sample; exact below it). */
const SILHOUETTE_SAMPLE = 1000;
/** Restarts run on at most this many points; the winner is then refined on the whole fit set. */
const RESTART_SAMPLE = 5000;
/** Hartigan point-move passes at most; each pass moves every point whose move lowers the within-cluster SS. */
const MAX_MOVE_PASSES = 50;
/** Lloyd iterations per k-means run, as ml-kmeans' default. */
const MAX_ITERATIONS = 100;

/** The options with their defaults filled in (restarts: undefined until the audience size is known). */
interface Settings {
  restarts: number | undefined;
  sampleSize: number;
  scaling: Scaling;
  seed: number;
}

/** Segments the audience with k-means (k-means++ seeding, several restarts) on scaled features. */
export function segmentAudience(input: SegmentInput, options: SegmentOptions): SegmentResult {
  const settings = settingsOf(options);
  const { table, revenue } = featureTable(input, options);
  const n = table.userIds.length;
  // One n-row scratch buffer serves the medians of the scaling and of the traits.
  const scratch = new Float64Array(n);
  const params = columnScaling(table, settings.scaling, scratch);
  // One seeded stream, drawn in a fixed order: fit sample, k=auto, restarts, silhouette sample.
  const rng = new Rng(settings.seed);
  const { fitData, everyone } = fitRows(table, params, settings.sampleSize, rng);
  const plan = planOf(settings, n);
  const chosen = chooseK(options, fitData, n, plan, rng);
  const { k } = chosen;
  const centers = fitCenters(fitData, k, plan, rng);
  const labels = labelBySize(everyone, centers, k);
  const spread = clusterSpread(everyone, labels, k);
  const sil = sampledSilhouette(table, params, labels, k, rng);
  const segments = describeSegments(table, labels, spread, revenue, scratch, options.currency ?? null);
  const { withinSS, totalSS } = spread;
  const result: SegmentResult = {
    k,
    features: table.names,
    scaling: settings.scaling,
    segments,
    labels,
    userIds: table.userIds,
    total: n,
    quality: { silhouette: sil, betweenOverTotal: totalSS > 0 ? 1 - withinSS / totalSS : 0, withinSS },
    sampled: fitData.n < n ? { fitted: fitData.n, total: n } : null,
    imputed: params.imputed,
  };
  if (chosen.kScores) result.kScores = chosen.kScores;
  const warnings = inputWarnings(table, totalSS);
  if (warnings.length > 0) result.warnings = warnings;
  if (!(totalSS > 0)) result.degenerate = true;
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// At scale: the backend computes the features, draws the sample and sums the segments (src/domain/segment-scan.ts)

/** A segmentation fitted on a sample of rows, for the backend to apply to everyone. */
export interface SegmentFit {
  k: number;
  kScores?: Array<{ k: number; silhouette: number }>;
  features: string[];
  scaling: ColumnScaling;
  /** Fitted centres in the scaled space, k×d row-major. */
  centres: Float64Array;
  /** Silhouette of the sample (at most 1,000 of its rows, seeded) labelled by the centres. */
  silhouette: number;
  fitted: number;
  total: number;
}

/** The column scaling of everyone from the backend's column statistics and moments (as `columnScaling`). */
export function scalingFromStats(
  columns: readonly PersonFeatureColumn[],
  moments: { means: readonly number[]; sds: readonly number[] },
  scaling: Scaling,
): ColumnScaling {
  return {
    medians: columns.map((c) => c.median),
    means: columns.map((_, j) => (scaling === 'none' ? 0 : (moments.means[j] as number))),
    sds: columns.map((_, j) => {
      const sd = moments.sds[j] as number;
      return scaling === 'none' || !(sd > 1e-12) ? 1 : sd;
    }),
    imputed: Object.fromEntries(columns.map((c) => [c.name, c.missing])),
    scaling,
  };
}

/**
 * Fits k-means on `sample` (rows of `total` people, scaled with everyone's `scaling`) as `segmentAudience`
 * fits on its fit set: k=auto, restarts and refinement by the same seeded stream. When the sample is everyone,
 * in stored order, the centres are the ones `segmentAudience` finds on the same data.
 */
export function fitSegments(
  sample: FeatureTable,
  scaling: ColumnScaling,
  total: number,
  options: SegmentOptions,
): SegmentFit {
  const settings = settingsOf(options);
  checkAudienceSize(total, options.k);
  const rng = new Rng(settings.seed);
  const d = sample.names.length;
  const m = sample.userIds.length;
  const fitData: Rows = { flat: scaledRowsAt(sample, scaling, null), n: m, d };
  const plan = planOf(settings, total);
  const chosen = chooseK(options, fitData, total, plan, rng);
  const { k } = chosen;
  const centres = fitCenters(fitData, k, plan, rng);
  const labels = nearestCentres(fitData.flat, d, centres, k);
  const silRows = m > SILHOUETTE_SAMPLE ? rng.sampleIndices(m, SILHOUETTE_SAMPLE) : null;
  const silFlat = silRows ? gatherRows(fitData, silRows) : fitData;
  const silLabels = silRows ? Int32Array.from(silRows, (r) => labels[r] as number) : labels;
  const fit: SegmentFit = {
    k,
    features: [...sample.names],
    scaling,
    centres,
    silhouette: silhouette(rowViews(silFlat), silLabels, k),
    fitted: m,
    total,
  };
  if (chosen.kScores) fit.kScores = chosen.kScores;
  return fit;
}

/** The nearest centre of each scaled row (row-major, d values each; a tie goes to the lower index). */
export function nearestCentres(rows: Float64Array, d: number, centres: Float64Array, k: number): Int32Array {
  const n = d > 0 ? rows.length / d : 0;
  const labels = new Int32Array(n);
  nearest({ flat: rows, n, d }, centres, k, labels);
  return labels;
}

/** How the backend is to place everyone for a fit (see CentreAssignment). */
export function centreAssignment(fit: SegmentFit): CentreAssignment {
  const d = fit.features.length;
  return {
    features: [...fit.features],
    medians: [...fit.scaling.medians],
    means: [...fit.scaling.means],
    sds: [...fit.scaling.sds],
    log: fit.scaling.scaling === 'log-zscore',
    centres: Array.from({ length: fit.k }, (_, c) => Array.from(fit.centres.subarray(c * d, (c + 1) * d))),
  };
}

/**
 * The segmentation of everyone from the backend's per-centre sums (everyone placed by `centreAssignment(fit)`):
 * the same sizes, centroids, names, traits and revenue shares `segmentAudience` derives from its labels. The
 * labels stay with the backend (`labels` and `userIds` are empty); the silhouette is the sample's.
 */
export function segmentsFromSummary(
  fit: SegmentFit,
  summary: AssignedSummary,
  columns: readonly PersonFeatureColumn[],
  options: Pick<SegmentOptions, 'currency'>,
): SegmentResult {
  const { k, total: n } = fit;
  const d = fit.features.length;
  const order = centresBySize(summary.sizes);
  const spread = summarySpread(summary, order, n, d);
  const z = (c: number) =>
    Array.from({ length: d }, (_, t) => {
      const sd = spread.colSd[t] as number;
      return sd > 1e-12
        ? ((spread.centroids[c * d + t] as number) - (spread.totalMean[t] as number)) / sd
        : 0;
    });
  const zs = order.map((_, c) => z(c));
  const names = nameSegments(
    fit.features,
    zs,
    order.map((old) => fit.features.map((_, t) => summary.medians[old]?.[t] as number)),
  );
  const totalRevenue = summary.revenue.reduce((a, b) => a + b, 0);
  const isBinary = columns.map((c) => c.binary);
  const withMeans = fit.features.map((f, t) => isBinary[t] === true || splitPrefix(f)[0] === 'category');
  const segments = order.map((old, c): Segment => {
    const size = summary.sizes[old] as number;
    const stats = (t: number): TraitStats => ({
      segMedian: summary.medians[old]?.[t] as number,
      allMedian: summary.allMedians[t] as number,
      segMean: withMeans[t] ? (summary.means[old]?.[t] as number) : Number.NaN,
      allMean: withMeans[t] ? (summary.allMeans[t] as number) : Number.NaN,
    });
    return {
      index: c,
      name: names[c] as string,
      size,
      share: size / n,
      revenueShare: totalRevenue > 0 ? (summary.revenue[old] as number) / totalRevenue : 0,
      traits: pickTraits(fit.features, zs[c] as number[], isBinary, stats, options.currency ?? null),
      centroid: Array.from(spread.centroids.subarray(c * d, (c + 1) * d)),
    };
  });
  const { withinSS, totalSS } = spread;
  const result: SegmentResult = {
    k,
    features: fit.features,
    scaling: fit.scaling.scaling,
    segments,
    labels: new Int32Array(0),
    userIds: [],
    total: n,
    quality: {
      silhouette: fit.silhouette,
      betweenOverTotal: totalSS > 0 ? 1 - withinSS / totalSS : 0,
      withinSS,
    },
    sampled: fit.fitted < n ? { fitted: fit.fitted, total: n } : null,
    imputed: fit.scaling.imputed,
  };
  if (fit.kScores) result.kScores = fit.kScores;
  const warnings = warningsOf(
    fit.features,
    columns.map((c) => c.max > c.min),
    totalSS,
  );
  if (warnings.length > 0) result.warnings = warnings;
  if (!(totalSS > 0)) result.degenerate = true;
  return result;
}

/** The centres from the largest to the smallest (ties by the centre's order): segment i is centre order[i]. */
function centresBySize(sizes: readonly number[]): number[] {
  return Array.from({ length: sizes.length }, (_, c) => c).sort(
    (a, b) => (sizes[b] as number) - (sizes[a] as number) || a - b,
  );
}

/** The segment each fit centre becomes (segments are numbered by size, as `segmentsFromSummary` does). */
export function segmentOfCentre(sizes: readonly number[]): number[] {
  const segmentOf = new Array<number>(sizes.length).fill(0);
  centresBySize(sizes).forEach((centre, segment) => {
    segmentOf[centre] = segment;
  });
  return segmentOf;
}

/** Centroids (in `order`), the audience mean, column sds and sums of squares from per-centre sums. */
function summarySpread(
  summary: AssignedSummary,
  order: readonly number[],
  n: number,
  d: number,
): Pick<Spread, 'centroids' | 'totalMean' | 'colSd' | 'withinSS' | 'totalSS'> {
  const centroids = new Float64Array(order.length * d);
  const totalMean = new Float64Array(d);
  const totalSquares = new Float64Array(d);
  let withinSS = 0;
  order.forEach((old, c) => {
    const size = summary.sizes[old] as number;
    for (let t = 0; t < d; t++) {
      const sum = summary.sums[old]?.[t] as number;
      const sq = summary.squares[old]?.[t] as number;
      centroids[c * d + t] = size > 0 ? sum / size : 0;
      totalMean[t] = (totalMean[t] as number) + sum;
      totalSquares[t] = (totalSquares[t] as number) + sq;
      if (size > 0) withinSS += Math.max(0, sq - (sum * sum) / size);
    }
  });
  let totalSS = 0;
  const colSd: number[] = [];
  for (let t = 0; t < d; t++) {
    const mean = (totalMean[t] as number) / n;
    totalMean[t] = mean;
    const ss = Math.max(0, (totalSquares[t] as number) - n * mean * mean);
    totalSS += ss;
    colSd.push(n > 1 ? Math.sqrt(ss / (n - 1)) : 0);
  }
  return { centroids, totalMean, colSd, withinSS, totalSS };
}

/**
 * What the input cannot support, in plain words: features with one value for everyone (after filling missing
 * values with the median), and above all an audience with no variation at all, where any split is arbitrary.
 */
function inputWarnings(table: FeatureTable, totalSS: number): string[] {
  const varies = table.columns.map((col) => {
    let first = Number.NaN;
    for (let i = 0; i < col.length; i++) {
      const v = col[i] as number;
      if (Number.isNaN(v)) continue;
      if (Number.isNaN(first)) first = v;
      else if (v !== first) return true;
    }
    return false;
  });
  return warningsOf(table.names, varies, totalSS);
}

/** The warnings of `inputWarnings`, given which columns take more than one value. */
function warningsOf(features: readonly string[], varies: readonly boolean[], totalSS: number): string[] {
  const constant = features.filter((_, j) => !varies[j]);
  const names = (list: readonly string[]) => list.map((f) => `"${f}"`).join(', ');
  if (!(totalSS > 0)) {
    return [
      `every profile has the same values of ${names(features)}, so there is nothing to segment: the segments below ` +
        'are an arbitrary split, and a silhouette would mean nothing. Choose features that differ between people, ' +
        `e.g. features=${DEFAULT_SEGMENT_FEATURES.slice(0, 3).join(',')}`,
    ];
  }
  if (constant.length === 0) return [];
  const verb = constant.length === 1 ? 'has' : 'have';
  return [
    `${names(constant)} ${verb} one value for everyone here and do${constant.length === 1 ? 'es' : ''} not shape the segments`,
  ];
}

/** The options' defaults filled in, after checking every option. */
function settingsOf(options: SegmentOptions): Settings {
  const settings: Settings = {
    restarts: options.restarts,
    sampleSize: options.sampleSize ?? SEGMENT_DEFAULTS.sampleSize,
    scaling: options.scaling ?? SEGMENT_DEFAULTS.scaling,
    seed: options.seed ?? SEGMENT_DEFAULTS.seed,
  };
  validate(options, settings);
  return settings;
}

/**
 * The clustering features of everyone existing at `asOf` (the empty ones of the default list dropped), and the
 * revenue column that segment revenue shares are summed from; refuses audiences too small for the request.
 */
function featureTable(
  input: SegmentInput,
  options: SegmentOptions,
): { table: FeatureTable; revenue: Float64Array } {
  const requestedFeatures = requestedSegmentFeatures(options);
  // Revenue needs `monetary`; compute it in the same pass even when it is not a clustering feature.
  const requested = withRevenue(requestedFeatures);
  let full: FeatureTable;
  try {
    full = computeFeatures(input, requested, { asOf: options.asOf, existingOnly: true });
  } catch (err) {
    if (err instanceof FeatureError) throw new SegmentError(err.message);
    throw err;
  }
  const n = full.userIds.length;
  checkAudienceSize(n, options.k);
  const revenue = full.columns[full.names.indexOf('monetary')] as Float64Array;
  const features = usableSegmentFeatures(requestedFeatures, full.missing, n, options);
  const table: FeatureTable = {
    userIds: full.userIds,
    names: features,
    columns: features.map((f) => full.columns[full.names.indexOf(f)] as Float64Array),
    missing: Object.fromEntries(features.map((f) => [f, full.missing[f] ?? 0])),
  };
  return { table, revenue };
}

/** The feature names asked for (or the defaults), trimmed and without repeats; refuses an empty list. */
export function requestedSegmentFeatures(options: Pick<SegmentOptions, 'features'>): string[] {
  const requested = [...new Set((options.features ?? DEFAULT_SEGMENT_FEATURES).map((f) => f.trim()))].filter(
    (f) => f.length > 0,
  );
  if (requested.length === 0) {
    throw new SegmentError(
      `no features given; try features=${DEFAULT_SEGMENT_FEATURES.slice(0, 4).join(',')}`,
    );
  }
  return requested;
}

/** The features to compute: the requested ones and `monetary`, which segment revenue shares are summed from. */
export function withRevenue(features: readonly string[]): string[] {
  return features.includes('monetary') ? [...features] : [...features, 'monetary'];
}

/**
 * The requested features to cluster on, given how many of the n profiles miss each: default features adapt to
 * the data (an import without purchases has no order values), asked-for ones must work.
 */
export function usableSegmentFeatures(
  requested: readonly string[],
  missing: Readonly<Record<string, number>>,
  n: number,
  options: Pick<SegmentOptions, 'features'>,
): string[] {
  const empty = requested.filter((f) => (missing[f] ?? 0) === n);
  if (empty.length > 0 && options.features !== undefined) {
    throw new SegmentError(`feature "${empty[0]}" has no values in this audience; pick features with data`);
  }
  const features = requested.filter((f) => !empty.includes(f));
  if (features.length === 0) {
    throw new SegmentError(
      'none of the default features has data here; name features with data, e.g. features=age',
    );
  }
  return features;
}

/** Refuses an audience of n profiles that cannot be split as asked. */
export function checkAudienceSize(n: number, k: number | 'auto'): void {
  if (n === 0) {
    throw new SegmentError(
      'the audience is empty at this point in time; import data or load the sample (`audience sample`)',
    );
  }
  if (n < 2) throw new SegmentError('only 1 profile; segments need at least 2 profiles');
  if (k !== 'auto' && n < k) {
    throw new SegmentError(`only ${n} profiles but k=${k}; use k=${n} or less`);
  }
  if (k === 'auto' && n < 3) {
    throw new SegmentError(`only ${n} profiles; k=auto needs at least 3, try k=2`);
  }
}

/**
 * The rows k-means fits on and everyone's scaled rows. Every k-means pass reads compact row-major buffers: the
 * whole audience when it is the fit set, else a gathered copy of a seeded sample. Passes over a sampled audience
 * read its scaled rows a block at a time.
 */
function fitRows(
  table: FeatureTable,
  params: ColumnScaling,
  sampleSize: number,
  rng: Rng,
): { fitData: Rows; everyone: Scaled } {
  const n = table.userIds.length;
  const d = table.names.length;
  const sampled = n > sampleSize;
  const fitData: Rows = sampled
    ? { flat: scaledRowsAt(table, params, rng.sampleIndices(n, sampleSize)), n: sampleSize, d }
    : { flat: scaledRowsAt(table, params, null), n, d };
  return { fitData, everyone: { table, params, n, d, all: sampled ? null : fitData } };
}

/**
 * The k asked for, or with k='auto' the fewest segments within `autoTolerance` of the best silhouette over the
 * range (on a sample of the fit rows).
 */
function chooseK(
  options: SegmentOptions,
  fitData: Rows,
  n: number,
  plan: Plan,
  rng: Rng,
): { k: number; kScores?: Array<{ k: number; silhouette: number }> } {
  if (options.k !== 'auto') return { k: options.k };
  const [lo, hi] = options.kRange ?? SEGMENT_DEFAULTS.autoRange;
  const evalData =
    fitData.n > AUTO_SAMPLE ? gatherRows(fitData, rng.sampleIndices(fitData.n, AUTO_SAMPLE)) : fitData;
  const dist = pairwiseDistances(rowViews(evalData));
  const kScores: Array<{ k: number; silhouette: number }> = [];
  const top = Math.min(hi, evalData.n - 1);
  const labels = new Int32Array(evalData.n);
  for (let kk = lo; kk <= top; kk++) {
    const centers = bestOfRestarts(evalData, kk, plan, rng);
    nearest(evalData, centers, kk, labels);
    kScores.push({ k: kk, silhouette: silhouetteFromDistances(dist, evalData.n, labels, kk) });
  }
  if (kScores.length === 0) {
    throw new SegmentError(`only ${n} profiles, too few for k=auto over [${lo}, ${hi}]; try k=2`);
  }
  const best = Math.max(...kScores.map((s) => s.silhouette));
  const chosen = kScores.find((s) => s.silhouette >= best - SEGMENT_DEFAULTS.autoTolerance) ?? kScores[0];
  return { k: (chosen as { k: number }).k, kScores };
}

/** The final centers: best of the restarts (on a sample of a large fit set, then refined on all of it). */
function fitCenters(fitData: Rows, k: number, plan: Plan, rng: Rng): Float64Array {
  if (fitData.n <= RESTART_SAMPLE) return bestOfRestarts(fitData, k, plan, rng);
  const sub = gatherRows(fitData, rng.sampleIndices(fitData.n, RESTART_SAMPLE));
  // Refining from converged centers only needs to settle the last few points: a looser tolerance halves the
  // iterations on the big fit set without changing the segments.
  const centers = lloyd(fitData, bestOfRestarts(sub, k, plan, rng), k, 1e-4);
  return plan.refine ? moveRefine(fitData, centers, k) : centers;
}

/** How hard k-means searches: restarts, and whether each run is refined by Hartigan point moves. */
interface Plan {
  restarts: number;
  refine: boolean;
}

/**
 * Small audiences get many restarts and the point-move refinement, which together reach R's best of 100
 * Hartigan-Wong starts; large ones keep the few restarts whose timings the benchmark tracks.
 */
function planOf(settings: Settings, n: number): Plan {
  const small = n < SEGMENT_DEFAULTS.smallRows;
  const restarts = settings.restarts ?? (small ? SEGMENT_DEFAULTS.smallRestarts : SEGMENT_DEFAULTS.restarts);
  return { restarts, refine: small };
}

/** Everyone's nearest center, relabelled so that segment 0 is the largest (ties by the center's order). */
function labelBySize(everyone: Scaled, centers: Float64Array, k: number): Int32Array {
  const { n } = everyone;
  const labels = new Int32Array(n);
  const block = new Float64Array(everyone.all ? 0 : BLOCK_ROWS * everyone.d);
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
  return labels;
}

/** Segment sizes and centroids from the final members, the audience mean and the sums of squares. */
interface Spread {
  k: number;
  d: number;
  sizes: Float64Array;
  /** k×d, row-major. */
  centroids: Float64Array;
  totalMean: Float64Array;
  /** Standard deviation of each scaled column over everyone. */
  colSd: number[];
  withinSS: number;
  totalSS: number;
}

/** Sizes, centroids and the audience mean of the labelled rows, then the sums of squares around them. */
function clusterSpread(everyone: Scaled, labels: Int32Array, k: number): Spread {
  const { n, d } = everyone;
  const block = new Float64Array(everyone.all ? 0 : BLOCK_ROWS * d);
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
  return {
    k,
    d,
    sizes,
    centroids,
    totalMean,
    ...sumsOfSquares(everyone, labels, centroids, totalMean, block),
  };
}

/** Within-segment and total sums of squares, and each column's standard deviation. */
function sumsOfSquares(
  everyone: Scaled,
  labels: Int32Array,
  centroids: Float64Array,
  totalMean: Float64Array,
  block: Float64Array,
): { colSd: number[]; withinSS: number; totalSS: number } {
  const { n, d } = everyone;
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
  return { colSd, withinSS, totalSS };
}

/** The reported silhouette: exact up to SILHOUETTE_SAMPLE profiles, else on a seeded sample of them. */
function sampledSilhouette(
  table: FeatureTable,
  params: ColumnScaling,
  labels: Int32Array,
  k: number,
  rng: Rng,
): number {
  const n = labels.length;
  const d = table.names.length;
  const silRows = n > SILHOUETTE_SAMPLE ? rng.sampleIndices(n, SILHOUETTE_SAMPLE) : null;
  const silPoints = rowViews({ flat: scaledRowsAt(table, params, silRows), n: silRows?.length ?? n, d });
  const silLabels = silRows ? Int32Array.from(silRows, (r) => labels[r] as number) : labels;
  return silhouette(silPoints, silLabels, k);
}

/** Each segment's size, revenue share, name, traits and centroid. */
function describeSegments(
  table: FeatureTable,
  labels: Int32Array,
  spread: Spread,
  revenue: Float64Array,
  scratch: Float64Array,
  currency: string | null,
): Segment[] {
  const { k, d, sizes, centroids, totalMean, colSd } = spread;
  const n = labels.length;
  const revenueShares = segmentRevenueShares(revenue, labels, k);
  const zs: number[][] = [];
  for (let c = 0; c < k; c++) {
    zs.push(
      Array.from({ length: d }, (_, t) => {
        const sd = colSd[t] as number;
        return sd > 1e-12 ? ((centroids[c * d + t] as number) - (totalMean[t] as number)) / sd : 0;
      }),
    );
  }
  const describer = describeTraits(table, labels, k, scratch, currency);
  const medians = zs.map((_, c) => table.names.map((_, t) => describer.median(c, t)));
  const names = nameSegments(table.names, zs, medians);
  return Array.from({ length: k }, (_, c) => {
    const size = sizes[c] as number;
    return {
      index: c,
      name: names[c] as string,
      size,
      share: size / n,
      revenueShare: revenueShares[c] as number,
      traits: describer.traits(c, zs[c] as number[]),
      centroid: Array.from(centroids.subarray(c * d, (c + 1) * d)),
    };
  });
}

/** Each segment's share of the (finite) revenue; all 0 without revenue. */
function segmentRevenueShares(revenue: Float64Array, labels: Int32Array, k: number): number[] {
  let totalRevenue = 0;
  const segRevenue = new Float64Array(k);
  for (let i = 0; i < labels.length; i++) {
    const v = revenue[i] as number;
    if (Number.isFinite(v)) {
      totalRevenue += v;
      segRevenue[labels[i] as number] = (segRevenue[labels[i] as number] as number) + v;
    }
  }
  return Array.from(segRevenue, (r) => (totalRevenue > 0 ? r / totalRevenue : 0));
}

function validate(options: SegmentOptions, settings: Settings): void {
  const { k } = options;
  const { sampleSize, scaling } = settings;
  const restarts = settings.restarts ?? SEGMENT_DEFAULTS.restarts;
  if (k !== 'auto' && !isAllowedK(k)) {
    throw new SegmentError(
      `k must be a whole number from ${K_RANGE.min} to ${K_RANGE.max} or "auto", got ${String(k)}`,
    );
  }
  if (options.kRange !== undefined) validateKRange(options.kRange);
  if (!(Number.isInteger(restarts) && restarts >= 1 && restarts <= 100)) {
    throw new SegmentError(`restarts must be a whole number from 1 to 100, got ${restarts}`);
  }
  if (!(Number.isInteger(sampleSize) && sampleSize >= 100)) {
    throw new SegmentError(`sampleSize must be a whole number of at least 100, got ${sampleSize}`);
  }
  if (!isScaling(scaling)) {
    const names = `${SCALINGS.slice(0, -1).join(', ')} or ${SCALINGS.at(-1)}`;
    throw new SegmentError(`scaling must be ${names}, got ${scaling}`);
  }
  if (!Number.isFinite(options.asOf)) throw new SegmentError('asOf must be a finite time (epoch ms)');
}

function validateKRange(r: [number, number]): void {
  const ok = Array.isArray(r) && r.length === 2 && isAllowedK(r[0]) && isAllowedK(r[1]) && r[0] <= r[1];
  if (!ok) {
    const [lo, hi] = SEGMENT_DEFAULTS.autoRange;
    throw new SegmentError(
      `kRange must be [min, max] with ${K_RANGE.min} <= min <= max <= ${K_RANGE.max}, got ${JSON.stringify(r)}; try [${lo}, ${hi}]`,
    );
  }
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

/**
 * Runs the plan's seeded k-means++ initialisations through Lloyd (and the point moves, when planned); keeps the
 * lowest within-cluster SS.
 */
function bestOfRestarts(data: Rows, k: number, plan: Plan, rng: Rng): Float64Array {
  let best: Float64Array | null = null;
  let bestSS = Number.POSITIVE_INFINITY;
  const labels = new Int32Array(data.n);
  for (let r = 0; r < plan.restarts; r++) {
    const fitted = lloyd(data, seedPlusPlus(data, k, rng), k);
    const centers = plan.refine ? moveRefine(data, fitted, k) : fitted;
    const ss = nearest(data, centers, k, labels);
    if (ss < bestSS) {
      bestSS = ss;
      best = centers;
    }
  }
  return best as Float64Array;
}

/**
 * Hartigan's point-move refinement after Lloyd: a point leaves its cluster a for cluster b when that lowers the
 * within-cluster SS, i.e. when n_b/(n_b+1)·|x-c_b|² < n_a/(n_a-1)·|x-c_a|², with both means updated at once.
 * Lloyd only moves a point to a nearer center, which ignores how the move shifts the means; this step escapes the
 * poor Lloyd fixed points that small tables have. Every move lowers the SS, so it stops; returns the new centers.
 */
function moveRefine(data: Rows, initial: Float64Array, k: number): Float64Array {
  const { flat, n, d } = data;
  const labels = new Int32Array(n);
  nearest(data, initial, k, labels);
  const { centers, size } = clusterMeans(data, labels, initial, k);
  for (let pass = 0; pass < MAX_MOVE_PASSES; pass++) {
    let moved = false;
    for (let i = 0; i < n; i++) {
      const a = labels[i] as number;
      const na = size[a] as number;
      if (na <= 1) continue;
      const at = i * d;
      let bestCost = (na / (na - 1)) * sqDist(flat, at, centers, a * d, d);
      let to = -1;
      for (let b = 0; b < k; b++) {
        if (b === a) continue;
        const nb = size[b] as number;
        const cost = (nb / (nb + 1)) * sqDist(flat, at, centers, b * d, d);
        // A relative margin, so rounding never moves a point back and forth between two equal choices.
        if (cost < bestCost * (1 - 1e-12)) {
          bestCost = cost;
          to = b;
        }
      }
      if (to < 0) continue;
      movePoint(flat, at, d, centers, size, a, to);
      labels[i] = to;
      moved = true;
    }
    if (!moved) break;
  }
  return centers;
}

/** The mean of each cluster's points (a cluster left empty keeps its old center), and the cluster sizes. */
function clusterMeans(
  data: Rows,
  labels: Int32Array,
  old: Float64Array,
  k: number,
): { centers: Float64Array; size: Float64Array } {
  const { flat, n, d } = data;
  const centers = new Float64Array(k * d);
  const size = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const c = labels[i] as number;
    size[c] = (size[c] as number) + 1;
    for (let j = 0; j < d; j++)
      centers[c * d + j] = (centers[c * d + j] as number) + (flat[i * d + j] as number);
  }
  for (let c = 0; c < k; c++) {
    const m = size[c] as number;
    for (let j = 0; j < d; j++) {
      centers[c * d + j] = m > 0 ? (centers[c * d + j] as number) / m : (old[c * d + j] as number);
    }
  }
  return { centers, size };
}

/** Moves the point at `at` from cluster a to cluster b, updating both means and sizes. */
function movePoint(
  flat: Float64Array,
  at: number,
  d: number,
  centers: Float64Array,
  size: Float64Array,
  a: number,
  b: number,
): void {
  const na = size[a] as number;
  const nb = size[b] as number;
  for (let j = 0; j < d; j++) {
    const x = flat[at + j] as number;
    centers[a * d + j] = ((centers[a * d + j] as number) * na - x) / (na - 1);
    centers[b * d + j] = ((centers[b * d + j] as number) * nb + x) / (nb + 1);
  }
  size[a] = na - 1;
  size[b] = nb + 1;
}

let kmeansFunction: typeof MlKmeans.kmeans | undefined;

/**
 * ml-kmeans on first use: its dependencies are about 250 modules, which every CLI start and every command that
 * never segments would load for nothing. Node 20.19+ requires ES modules synchronously, so callers stay sync.
 */
function loadKmeans(): typeof MlKmeans.kmeans {
  kmeansFunction ??= (createRequire(import.meta.url)('ml-kmeans') as typeof MlKmeans).kmeans;
  return kmeansFunction;
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
  const result = loadKmeans()(rows, k, { initialization: start, tolerance, maxIterations: MAX_ITERATIONS });
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
// Traits

const MAX_TRAITS = 4;
const MIN_TRAIT_Z = 0.25;

/** Builds the trait describer: top standardized differences per segment, with text in original units. */
function describeTraits(
  table: FeatureTable,
  labels: Int32Array,
  k: number,
  scratch: Float64Array,
  currency: string | null,
): { traits: (segment: number, z: number[]) => Trait[]; median: (segment: number, t: number) => number } {
  // The segments' values side by side in one scratch buffer; medians select in place there, no copies.
  const grouped = scratch.subarray(0, labels.length);
  const offsets = segmentOffsets(labels, k);
  const isBinary = table.columns.map(isBinaryColumn);
  // Per feature, computed once when a segment first needs it.
  const cache = new Map<number, TraitStats[]>();
  const stats = (c: number, t: number): TraitStats => {
    let perSegment = cache.get(t);
    if (!perSegment) {
      const name = table.names[t] as string;
      // Means are only phrased for yes/no features and category shares.
      const withMeans = isBinary[t] === true || splitPrefix(name)[0] === 'category';
      perSegment = featureTraitStats(
        table.columns[t] as Float64Array,
        name,
        withMeans,
        labels,
        offsets,
        grouped,
      );
      cache.set(t, perSegment);
    }
    return perSegment[c] as TraitStats;
  };
  return {
    traits: (c, z) => pickTraits(table.names, z, isBinary, (t) => stats(c, t), currency),
    median: (c, t) => stats(c, t).segMedian,
  };
}

/** The largest standardized differences (at least one), phrased with the feature's statistics. */
function pickTraits(
  names: readonly string[],
  z: readonly number[],
  isBinary: readonly boolean[],
  stats: (t: number) => TraitStats,
  currency: string | null,
): Trait[] {
  const ranked = names
    .map((feature, t) => ({ feature, t, z: z[t] as number }))
    .sort((a, b) => Math.abs(b.z) - Math.abs(a.z) || a.t - b.t);
  const picked = ranked.filter((r) => Math.abs(r.z) >= MIN_TRAIT_Z).slice(0, MAX_TRAITS);
  if (picked.length === 0 && ranked.length > 0) picked.push(ranked[0] as (typeof ranked)[number]);
  return picked.map((r) => ({
    feature: r.feature,
    z: r.z,
    text: traitText(r.feature, stats(r.t), isBinary[r.t] === true, currency),
  }));
}

/** Where each segment's block starts when the rows are grouped by segment (k + 1 offsets). */
function segmentOffsets(labels: Int32Array, k: number): Int32Array {
  const sizes = new Int32Array(k);
  for (let i = 0; i < labels.length; i++)
    sizes[labels[i] as number] = (sizes[labels[i] as number] as number) + 1;
  const offsets = new Int32Array(k + 1);
  for (let g = 0; g < k; g++) offsets[g + 1] = (offsets[g] as number) + (sizes[g] as number);
  return offsets;
}

/** Whether a column holds only 0, 1 and missing values (a yes/no feature). */
function isBinaryColumn(col: Float64Array): boolean {
  for (let i = 0; i < col.length; i++) {
    const v = col[i] as number;
    if (!Number.isNaN(v) && v !== 0 && v !== 1) return false;
  }
  return true;
}

/** One feature's medians (and, when asked, means) per segment and over everyone, in original units. */
function featureTraitStats(
  raw: Float64Array,
  name: string,
  withMeans: boolean,
  labels: Int32Array,
  offsets: Int32Array,
  grouped: Float64Array,
): TraitStats[] {
  const k = offsets.length - 1;
  // Followers are clustered as log10(1 + f) but described in followers: f = 10^x - 1 is increasing, so the
  // order statistics of the log column map to those of the followers one (a million powers saved).
  const fromLog = name === 'log_followers' ? (x: number) => 10 ** x - 1 : undefined;
  const groups = Array.from({ length: k }, (_, g) =>
    grouped.subarray(offsets[g] as number, offsets[g + 1] as number),
  );
  const fill = new Int32Array(k);
  for (let i = 0; i < labels.length; i++) {
    const g = labels[i] as number;
    (groups[g] as Float64Array)[fill[g] as number] = raw[i] as number;
    fill[g] = (fill[g] as number) + 1;
  }
  const { segMeans, allMean } = segmentMeans(withMeans ? raw : null, labels, k, fromLog);
  const segMedians = groups.map((values) => medianInPlace(values, fromLog));
  // Every value is still in `grouped`, only reordered: the whole buffer's median is the audience's.
  const allMedian = medianInPlace(grouped, fromLog);
  return segMedians.map((segMedian, g) => ({
    segMedian,
    allMedian,
    segMean: segMeans[g] as number,
    allMean,
  }));
}

/** Means of the non-missing values per segment and over everyone; all NaN when `raw` is null. */
function segmentMeans(
  raw: Float64Array | null,
  labels: Int32Array,
  k: number,
  fromLog: ((x: number) => number) | undefined,
): { segMeans: number[]; allMean: number } {
  const sums = new Float64Array(k);
  const counts = new Float64Array(k);
  if (raw) {
    for (let i = 0; i < labels.length; i++) {
      const v = fromLog ? fromLog(raw[i] as number) : (raw[i] as number);
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
  return {
    segMeans: Array.from(sums, (sum, g) =>
      (counts[g] as number) > 0 ? sum / (counts[g] as number) : Number.NaN,
    ),
    allMean: allCount > 0 ? allSum / allCount : Number.NaN,
  };
}
