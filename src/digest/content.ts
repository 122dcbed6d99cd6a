/**
 * What a digest says, computed from the store: this week's segments against the segmentation of about a
 * week earlier (matched by nearest centroid), who moved where, audience totals week over week, predicted
 * revenue and top products per segment, and how fresh the data is. Raw counts only: the message builder
 * decides what is too small to show in a channel.
 *
 * Content depends on the data and the digest's options, never on the wall clock (everything is "as of"
 * the data), so one computation serves every schedule with the same options until the data changes.
 */

import type { SegmentRun } from '../domain/types.ts';
import { dataAsOf } from '../engine/as-of.ts';
import { FeatureError } from '../engine/features.ts';
import { defaultFeatures, PredictError, SPEND_TARGET } from '../engine/predict.ts';
import { RecommendError, type RecommendModel, withSegments } from '../engine/recommend.ts';
import { SegmentError } from '../engine/segments.ts';
import { computeStats } from '../engine/stats.ts';
import { engineAudience } from '../queries/audience.ts';
import { cachedResult } from '../queries/cache.ts';
import { predictionModelFor } from '../queries/prediction.ts';
import { recommendationModelFor } from '../queries/recommendation.ts';
import { audiencePredictionsFor, segmentRecommendationsFor } from '../queries/results.ts';
import { DEFAULT_SEGMENT_REQUEST, type SegmentRequest, segmentationFor } from '../queries/segmentation.ts';
import type { Store } from '../store/store.ts';
import type { DigestOptions } from './validate.ts';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** The comparison run must be at least this much older than this week's. */
const MIN_COMPARE_AGE = 6 * DAY;
/** Top products listed per segment. */
const TOP_PRODUCTS = 3;
/** Movements listed. */
const TOP_MOVEMENTS = 3;
/** Weeks of segment sizes behind the chart. */
const CHART_WEEKS = 8;

/** One segment this week, with its match in the comparison run. */
export interface DigestSegment {
  index: number;
  name: string;
  size: number;
  share: number;
  /** The matched segment of the comparison run, or null when this segment is new. */
  previous: { name: string; size: number } | null;
  /** Expected spend of the members in the next 30 days; null without predictions. */
  predictedRevenue: number | null;
  /** Product names, best first; empty without recommendations or for a small segment. */
  topProducts: string[];
}

/** People who were in one segment last week and are in another now. */
export interface DigestMovement {
  from: string;
  to: string;
  count: number;
}

/** Everything a digest message shows, as plain data. */
export interface DigestContent {
  configKey: string;
  dataVersion: number;
  /** The instant the data describes (just after its latest interaction). */
  asOf: number;
  latestInteraction: number | null;
  updatedAt: number | null;
  source: string | null;
  /** False when there are no profiles at all. */
  hasData: boolean;
  totals: {
    total: number;
    totalWeekAgo: number;
    newThisWeek: number;
    newLastWeek: number;
    active7d: number;
    activePrevWeek: number;
    purchasers30d: number;
    revenue30d: number;
    revenuePrev30d: number;
  };
  k: number;
  segments: DigestSegment[];
  movements: DigestMovement[];
  /** Segments of the comparison run with no counterpart now. */
  vanished: Array<{ name: string; size: number }>;
  /** The run this week is compared with; null when there is none old enough. */
  comparedWith: { runId: string; createdAt: number } | null;
  runCreatedAt: number | null;
  /** Why a part is missing (no predictions possible, …), one line each. */
  notes: string[];
  /** Segment sizes per week (latest run of each week with the same k), for the chart. */
  sizesOverTime: Array<{ weekStart: number; segments: Array<{ name: string; size: number }> }>;
  /** The command behind "Open details". */
  detailsCommand: string;
}

/** The key of a content configuration: schedules with equal keys get the same content. */
export function contentConfigKey(options: DigestOptions): string {
  return `k=${options.k}|predictions=${options.predictions ? 1 : 0}|recommendations=${options.recommendations ? 1 : 0}`;
}

/**
 * Computes the content for one configuration. Heavy (segmentation, prediction, recommendation), but each
 * model comes from the store's model cache when the data did not change.
 */
export async function computeDigestContent(
  store: Store,
  options: DigestOptions,
  settings: { currency: string; minCohortSize: number; now: number },
): Promise<DigestContent> {
  const data = await engineAudience(store);
  const runs = await store.segmentRuns.list();
  const asOf = dataAsOf(data.interactions, settings.now);
  const stats = computeStats(data.profiles, data.interactions, { asOf });
  const content: DigestContent = {
    configKey: contentConfigKey(options),
    dataVersion: data.version,
    asOf,
    latestInteraction: stats.latestInteraction,
    updatedAt: data.meta.updatedAt,
    source: data.meta.source,
    hasData: data.profiles.length > 0,
    totals: {
      total: stats.total,
      totalWeekAgo: stats.totalWeekAgo,
      newThisWeek: stats.newThisWeek,
      newLastWeek: stats.newLastWeek,
      active7d: stats.active7d,
      activePrevWeek: stats.activePrevWeek,
      purchasers30d: stats.purchasers30d,
      revenue30d: stats.revenue30d,
      revenuePrev30d: stats.revenuePrev30d,
    },
    k: 0,
    segments: [],
    movements: [],
    vanished: [],
    comparedWith: null,
    runCreatedAt: null,
    notes: [],
    sizesOverTime: [],
    detailsCommand: options.k === 'auto' ? 'segments' : `segments k=${options.k}`,
  };
  if (!content.hasData) return content;

  const request: SegmentRequest = { ...DEFAULT_SEGMENT_REQUEST, k: options.k };
  let run: SegmentRun;
  try {
    run = (await segmentationFor(store, request, settings.now, settings.currency)).run;
  } catch (error) {
    if (error instanceof SegmentError || error instanceof FeatureError) {
      content.notes.push(`Segments unavailable: ${error.message}`);
      return content;
    }
    throw error;
  }
  const total = run.labels.length;
  content.k = run.k;
  content.runCreatedAt = run.created_at;
  content.segments = run.names.map((name, index) => ({
    index,
    name,
    size: run.sizes[index] ?? 0,
    share: total > 0 ? (run.sizes[index] ?? 0) / total : 0,
    previous: null,
    predictedRevenue: null,
    topProducts: [],
  }));

  const previous = comparisonRun(runs, run);
  if (previous) {
    content.comparedWith = { runId: previous.id, createdAt: previous.created_at };
    compare(content, run, previous);
  }
  if (options.predictions) await addPredictions(content, store, run, settings);
  if (options.recommendations) await addRecommendations(content, store, run, settings);
  content.sizesOverTime = sizesOverTime(await store.segmentRuns.list(), run);
  return content;
}

/** The newest run at least 6 days older than `run`, segmented on the same features the same way. */
export function comparisonRun(runs: readonly SegmentRun[], run: SegmentRun): SegmentRun | null {
  let best: SegmentRun | null = null;
  for (const r of runs) {
    if (r.id === run.id || r.created_at > run.created_at - MIN_COMPARE_AGE) continue;
    if (r.scaling !== run.scaling || r.features.join(',') !== run.features.join(',')) continue;
    if (best === null || r.created_at > best.created_at) best = r;
  }
  return best;
}

/**
 * Pairs segments of two runs by nearest centroid, closest pairs first, one-to-one. Pairs further apart than
 * a threshold stay unmatched (a segment appeared or vanished). Returns, per current segment, the index in
 * the previous run or -1.
 */
export function matchSegments(current: readonly number[][], previous: readonly number[][]): number[] {
  const match = current.map(() => -1);
  const dims = current[0]?.length ?? 0;
  if (dims === 0 || previous.some((c) => c.length !== dims)) return match;
  // Centroids are in z-score units: a distance beyond ~0.75 SD per feature is a different group of people.
  const threshold = Math.max(1.5, 0.75 * Math.sqrt(dims));
  const pairs: Array<{ i: number; j: number; d: number }> = [];
  current.forEach((a, i) => {
    previous.forEach((b, j) => {
      let sum = 0;
      for (let f = 0; f < dims; f++) sum += ((a[f] ?? 0) - (b[f] ?? 0)) ** 2;
      pairs.push({ i, j, d: Math.sqrt(sum) });
    });
  });
  pairs.sort((x, y) => x.d - y.d || x.i - y.i || x.j - y.j);
  const taken = new Set<number>();
  for (const { i, j, d } of pairs) {
    if (d > threshold) break;
    if (match[i] !== -1 || taken.has(j)) continue;
    match[i] = j;
    taken.add(j);
  }
  return match;
}

function compare(content: DigestContent, run: SegmentRun, previous: SegmentRun): void {
  const match = matchSegments(run.centroids, previous.centroids);
  const prevToCur = new Map<number, number>();
  match.forEach((j, i) => {
    if (j >= 0) prevToCur.set(j, i);
  });
  content.segments.forEach((segment, i) => {
    const j = match[i] ?? -1;
    if (j >= 0)
      segment.previous = { name: previous.names[j] ?? `Segment ${j + 1}`, size: previous.sizes[j] ?? 0 };
  });
  content.vanished = previous.names
    .map((name, j) => ({ name, size: previous.sizes[j] ?? 0, j }))
    .filter(({ j }) => !prevToCur.has(j))
    .map(({ name, size }) => ({ name, size }));

  // Movements: people whose segment last week does not correspond to their segment now.
  const before = new Map<string, number>();
  previous.user_ids.forEach((id, i) => {
    before.set(id, previous.labels[i] ?? -1);
  });
  const counts = new Map<string, number>();
  run.user_ids.forEach((id, i) => {
    const p = before.get(id);
    if (p === undefined || p < 0) return;
    const c = run.labels[i] ?? -1;
    if (prevToCur.get(p) === c) return;
    const key = `${p}>${c}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  content.movements = [...counts.entries()]
    .map(([key, count]) => {
      const [p, c] = key.split('>').map(Number) as [number, number];
      return { from: previous.names[p] ?? `Segment ${p + 1}`, to: run.names[c] ?? `Segment ${c + 1}`, count };
    })
    .sort((a, b) => b.count - a.count || a.from.localeCompare(b.from) || a.to.localeCompare(b.to))
    .slice(0, TOP_MOVEMENTS);
}

async function addPredictions(
  content: DigestContent,
  store: Store,
  run: SegmentRun,
  settings: { currency: string; now: number },
): Promise<void> {
  try {
    const features = defaultFeatures(await store.audience.attributeKinds());
    const { model, key } = await predictionModelFor(
      store,
      { target: SPEND_TARGET, features, userChoseFeatures: false, currency: settings.currency },
      settings.now,
    );
    const { userIds, values } = await audiencePredictionsFor(store, model, key);
    const label = new Map<string, number>();
    run.user_ids.forEach((id, i) => {
      label.set(id, run.labels[i] ?? -1);
    });
    const sums = new Float64Array(run.k);
    userIds.forEach((id, r) => {
      const l = label.get(id);
      if (l !== undefined && l >= 0) sums[l] = (sums[l] ?? 0) + (values[r] ?? 0);
    });
    for (const segment of content.segments) segment.predictedRevenue = sums[segment.index] ?? 0;
  } catch (error) {
    if (!(error instanceof PredictError || error instanceof FeatureError)) throw error;
    content.notes.push(`Revenue predictions unavailable: ${error.message}`);
  }
}

async function addRecommendations(
  content: DigestContent,
  store: Store,
  run: SegmentRun,
  settings: { minCohortSize: number; now: number },
): Promise<void> {
  if ((await store.audience.counts()).products === 0) {
    content.notes.push('Recommendations unavailable: the product catalogue is empty');
    return;
  }
  try {
    const model = await recommendationModelForRun(store, run, settings.now);
    for (const segment of content.segments) {
      if (segment.size < settings.minCohortSize) continue;
      const recs = await segmentRecommendationsFor(store, model, segment.index, TOP_PRODUCTS, {
        minCohortSize: settings.minCohortSize,
      });
      segment.topProducts = recs.items.map((item) => item.name);
    }
  } catch (error) {
    if (!(error instanceof RecommendError)) throw error;
    content.notes.push(`Recommendations unavailable: ${error.message}`);
  }
}

/**
 * The cached recommendation model when it was built on this run (the usual case: one digest configuration,
 * and the latest segmentation is its own); otherwise one built on this run, so segment numbers line up.
 */
async function recommendationModelForRun(
  store: Store,
  run: SegmentRun,
  now: number,
): Promise<RecommendModel> {
  const data = await engineAudience(store);
  const { model } = await recommendationModelFor(store, now);
  if ((await store.segmentRuns.latest())?.id === run.id) return model;
  // Only the segment tables depend on the run: swap in this run's instead of building a second model.
  const segments = { userIds: run.user_ids, labels: run.labels, names: run.names, runId: run.id };
  return withSegments(model, data, segments, now);
}

/** Segment sizes of the last 8 weeks: the newest run of each week with the same k and features. */
function sizesOverTime(runs: readonly SegmentRun[], run: SegmentRun): DigestContent['sizesOverTime'] {
  const byWeek = new Map<number, SegmentRun>();
  for (const r of runs) {
    if (r.k !== run.k || r.scaling !== run.scaling || r.features.join(',') !== run.features.join(','))
      continue;
    if (r.created_at > run.created_at || r.created_at <= run.created_at - CHART_WEEKS * WEEK) continue;
    const weekStart = startOfUtcWeek(r.created_at);
    const seen = byWeek.get(weekStart);
    if (!seen || r.created_at > seen.created_at) byWeek.set(weekStart, r);
  }
  return [...byWeek.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([weekStart, r]) => ({
      weekStart,
      segments: r.names.map((name, i) => ({ name, size: r.sizes[i] ?? 0 })),
    }));
}

function startOfUtcWeek(at: number): number {
  const d = new Date(at);
  const day = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - (day - 1));
}

/**
 * Keeps computed content per configuration and data version, so a tick computes each at most once; held by the
 * one cache of src/queries/ (cache.ts) like every other result.
 */
export interface ContentCache {
  /** The content for `options`, computed now or reused from earlier on the same data. */
  get(options: DigestOptions, now: number): Promise<DigestContent>;
  /** How many times content was actually computed (for tests and the benchmark). */
  readonly computed: number;
}

/** A content cache over the store (the queries' cache, keyed by configuration and data version). */
export function createContentCache(
  store: Store,
  settings: { currency: string; minCohortSize: number },
): ContentCache {
  let computed = 0;
  return {
    async get(options, now) {
      const audience = await engineAudience(store);
      return cachedResult(store, audience, `digest-content|${contentConfigKey(options)}`, () => {
        computed++;
        return computeDigestContent(store, options, { ...settings, now });
      });
    },
    get computed() {
      return computed;
    },
  };
}
