/**
 * What a digest says, computed from the store: this week's segments of the audience's default segmentation
 * (src/queries/segmentation.ts; a digest with its own k uses the default's features and scaling with that k)
 * against the like segmentation of a week earlier (same request, whole audience; matched by nearest centroid),
 * who moved where, audience totals week over week, predicted revenue and top products per segment, and how
 * fresh the data is. Raw counts only: the message builder decides what is too small to show in a channel.
 *
 * Computing content writes nothing (a preview must not change what the next digest compares with): a new
 * segmentation and the models stay in memory, and the scheduler records the segmentation when it delivers
 * (recordDigestSegmentation). Content depends on the data, the stored segmentations and the day, so one
 * computation serves every schedule with the same options that day until the data changes.
 */

import type { AudienceStats } from '../domain/audience-stats.ts';
import { DIGEST_TOTAL_FIELDS, type DigestReport, type DigestTotals } from '../domain/digest.ts';
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
import {
  currentDefaultRun,
  defaultRequest,
  isDefaultRequest,
  type ResolvedSegmentation,
  recordSegmentation,
  resolveSegmentation,
  type SegmentRequest,
  sameRequest,
  storedDefaultHeader,
} from '../queries/segmentation.ts';
import { runWithAssignments } from '../queries/segments-in-store.ts';
import type { AudienceSnapshot, Store } from '../store/store.ts';
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

/**
 * A digest's content: the report its message shows, plus the segmentation it shows, which the scheduler
 * records when it delivers (absent on content without segments).
 */
export interface DigestContent extends DigestReport {
  segmentation?: ResolvedSegmentation;
}

/** The key of a content configuration: schedules with equal keys get the same content. */
export function contentConfigKey(options: DigestOptions): string {
  return `k=${options.k}|predictions=${options.predictions ? 1 : 0}|recommendations=${options.recommendations ? 1 : 0}`;
}

/** What a digest says when its audience is too large to read into the app (a database over SNAPSHOT_MAX_ROWS). */
const DIGEST_TOO_LARGE = {
  needs: 'this digest',
  instead:
    'digests read the audience into the app for their segments and recommendations; raise SNAPSHOT_MAX_ROWS where the app has the memory for it',
};

/**
 * Computes the content for one configuration. Heavy (segmentation, prediction, recommendation), but each
 * model comes from the store's model cache when the data did not change.
 */
export async function computeDigestContent(
  store: Store,
  options: DigestOptions,
  settings: { currency: string; minCohortSize: number; now: number },
): Promise<DigestContent> {
  const data = await engineAudience(store, DIGEST_TOO_LARGE);
  const content = totalsContent(data, options, settings.now);
  if (!content.hasData) return content;

  const updatedAt = data.meta.updatedAt;
  content.unchanged =
    updatedAt !== null && updatedAt <= settings.now - MIN_COMPARE_AGE
      ? { since: updatedAt, days: Math.floor((settings.now - updatedAt) / DAY) }
      : null;
  let run: SegmentRun;
  try {
    const request = digestRequest(await store.segmentRuns.headers(), options);
    const resolved = await resolveSegmentation(store, request, settings.now, settings.currency);
    content.segmentation = resolved;
    run = await runWithAssignments(store, resolved.run);
  } catch (error) {
    if (error instanceof SegmentError || error instanceof FeatureError) {
      content.notes.push(`Segments unavailable: ${error.message}`);
      return content;
    }
    throw error;
  }
  const total = run.sizes.reduce((a, b) => a + b, 0);
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

  const runs = await store.segmentRuns.headers();
  const header = comparisonRun(runs, run, settings.now);
  // Only the run compared with is read whole (who was where); the others' sizes are in their headers.
  const previous = header ? await store.segmentRuns.get(header.id) : undefined;
  if (previous) {
    content.comparedWith = { runId: previous.id, createdAt: previous.created_at };
    compare(content, run, previous);
  }
  if (options.predictions) await addPredictions(content, store, run, settings);
  if (options.recommendations) await addRecommendations(content, store, run, settings);
  content.sizesOverTime = sizesOverTime(runs, run);
  return content;
}

/** The stats fields a digest shows, picked from the audience stats. */
function digestTotals(stats: AudienceStats): DigestTotals {
  const totals = {} as DigestTotals;
  for (const field of DIGEST_TOTAL_FIELDS) totals[field] = stats[field];
  return totals;
}

/** The audience totals of a digest, with no segments yet. */
function totalsContent(data: AudienceSnapshot, options: DigestOptions, now: number): DigestContent {
  const asOf = dataAsOf(data.interactions, now);
  const stats = computeStats(data.profiles, data.interactions, { asOf });
  const content: DigestContent = {
    configKey: contentConfigKey(options),
    dataVersion: data.version,
    asOf,
    latestInteraction: stats.latestInteraction,
    updatedAt: data.meta.updatedAt,
    source: data.meta.source,
    hasData: data.profiles.length > 0,
    totals: digestTotals(stats),
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
  return content;
}

/**
 * What a digest segments: the default segmentation's request, with the digest's own k when it sets one (then
 * it is the default itself only when the k is the default's).
 */
export function digestRequest(
  runs: readonly SegmentRun[],
  options: Pick<DigestOptions, 'k'>,
): SegmentRequest {
  const base = defaultRequest(runs);
  return options.k === 'auto' ? base : { ...base, k: options.k };
}

/**
 * Last week's like segmentation: the newest stored run made at least 6 days before `now` for the same
 * request over the whole audience (never an ad-hoc or filtered run). With unchanged data that is this week's
 * run itself, and every segment reads ±0. Runs stored before requests were recorded are matched on features
 * and scaling, as they always were.
 */
export function comparisonRun(runs: readonly SegmentRun[], run: SegmentRun, now: number): SegmentRun | null {
  let best: SegmentRun | null = null;
  for (const r of runs) {
    if (r.created_at > now - MIN_COMPARE_AGE || !comparable(r, run)) continue;
    if (best === null || r.created_at > best.created_at) best = r;
  }
  return best;
}

/** Whether two runs segment the whole audience the same way. */
function comparable(a: SegmentRun, b: SegmentRun): boolean {
  if ((a.request?.where ?? null) !== null || (b.request?.where ?? null) !== null) return false;
  if (a.request && b.request) return sameRequest(a.request, b.request);
  return a.scaling === b.scaling && a.features.join(',') === b.features.join(',');
}

/**
 * Stores the segmentation a delivered digest showed (a delivery records state; computing content does not),
 * so next week's digest compares with it. Nothing happens when it is stored already or the data moved on.
 */
export async function recordDigestSegmentation(
  store: Store,
  content: DigestContent,
  currency: string | undefined,
): Promise<void> {
  const pending = content.segmentation?.pending;
  if (!pending || pending.run.data_version !== (await store.audience.version())) return;
  const runs = await store.segmentRuns.headers();
  const request = pending.run.request;
  const asDefault = request !== undefined && isDefaultRequest(runs, request);
  const inStore = runs.some((r) => r.id === pending.run.id);
  if (inStore && (!asDefault || currentDefaultRun(runs)?.id === pending.run.id)) return;
  await recordSegmentation(store, { ...pending, stored: inStore }, currency, { asDefault });
  // Recorded once: later deliveries of the same content have nothing left to store.
  content.segmentation = { run: pending.run, pending: null, isDefault: asDefault };
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
      { record: false },
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
 * The recommendation model when it was built on this run (the usual case: the digest shows the default
 * segmentation); otherwise one with this run's segment tables, so segment numbers line up. Writes nothing.
 */
async function recommendationModelForRun(
  store: Store,
  run: SegmentRun,
  now: number,
): Promise<RecommendModel> {
  const data = await engineAudience(store, DIGEST_TOO_LARGE);
  const { model } = await recommendationModelFor(store, now, { record: false });
  if ((await storedDefaultHeader(store))?.id === run.id) return model;
  // Only the segment tables depend on the run: swap in this run's instead of building a second model.
  const segments = { userIds: run.user_ids, labels: run.labels, names: run.names, runId: run.id };
  return withSegments(model, data, segments, now);
}

/** Segment sizes of the last 8 weeks: the newest run of each week with the same k and features. */
function sizesOverTime(runs: readonly SegmentRun[], run: SegmentRun): DigestContent['sizesOverTime'] {
  const byWeek = new Map<number, SegmentRun>();
  // This week's run may not be stored yet (it is when the digest is delivered).
  const all = runs.some((r) => r.id === run.id) ? runs : [...runs, run];
  for (const r of all) {
    if (r.k !== run.k || !comparable(r, run)) continue;
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
 * Keeps computed content per configuration, day and data version, so a tick computes each at most once; held by the
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
      const audience = await engineAudience(store, DIGEST_TOO_LARGE);
      // The day and the stored default are part of the key: which run is "a week earlier" moves with them.
      const day = Math.floor(now / DAY);
      const current = (await storedDefaultHeader(store))?.id ?? '';
      const key = `digest-content|${contentConfigKey(options)}|d${day}|${current}`;
      return cachedResult(store, audience, key, () => {
        computed++;
        return computeDigestContent(store, options, { ...settings, now });
      });
    },
    get computed() {
      return computed;
    },
  };
}
